"""Savers: SavedModel export and loading, checkpoints and serving of tfpolicy policies.

This package is reserved for the export layer; it has no public names yet.
It depends on `specs` and `tfpolicy`, never the other way round.
"""

__all__: list = []
