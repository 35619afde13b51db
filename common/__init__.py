"""What the builder (`xfever`) and the harness (`harness`) share: errors, progress, provenance, files.

`harness` depends on this package and on `xfever.schema` (the dataset contract), on nothing else of
the builder.
"""
