"""xfever: build, validate and publish the XFEVER cross-lingual model-editing dataset."""

from __future__ import annotations

from common.provenance import package_version

__version__ = package_version()  # one version string for both packages: the distribution's
