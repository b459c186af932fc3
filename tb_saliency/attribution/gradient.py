"""Gradient (Simonyan et al. 2014): the gradient of the target score with respect to the input."""

from .extending import input_method


@input_method("gradient", definition="∂f/∂x, signed", citation="Simonyan et al. 2014")
def gradient(x, g):
    return g
