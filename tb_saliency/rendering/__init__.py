"""Pictures of saliency maps in Python, drawn as the Saliency tab draws them (NumPy only)."""

from tb_saliency.rendering.render import render

__all__ = ["render"]
