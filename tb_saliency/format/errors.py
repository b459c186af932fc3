"""The one error a reader of stored frames raises."""


class FormatError(ValueError):
    """A stored frame or metadata cannot be read: damaged, or written by a newer tb_saliency."""
