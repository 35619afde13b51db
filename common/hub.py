"""The Hugging Face Hub boundary shared by `xfever publish` and `harness publish-results`.

The token is whatever `huggingface_hub` finds (HF_TOKEN, or the one `hf auth login` stored); it is
never passed around, logged, printed or returned: `hub_api` only checks that one exists.
"""

from __future__ import annotations

from typing import Any

from common.errors import ToolkitError, UsageError


def check_repo_id(repo_id: str) -> str:
    """`repo_id` if it is ORG/NAME and huggingface_hub's validator accepts it; else a ToolkitError."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise UsageError(f"--repo-id {repo_id!r}: {err} (expected ORG/NAME)") from None
    if repo_id.count("/") != 1:
        raise UsageError(f"--repo-id {repo_id!r}: expected ORG/NAME (the full id: loading snippets need it)")
    return repo_id


def hub_api(api: Any = None) -> Any:
    """`api` if given (tests), else an `HfApi` once a token is known to exist."""
    if api is not None:
        return api
    from huggingface_hub import HfApi, get_token

    if get_token() is None:
        raise ToolkitError("no Hugging Face token: run `hf auth login` or set HF_TOKEN")
    return HfApi()
