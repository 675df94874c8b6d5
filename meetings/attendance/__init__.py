"""The roll and the quorum: the foundation that both the live sitting and voting build on."""
