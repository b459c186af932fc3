"""Input × gradient (Shrikumar et al. 2016): the input times the gradient of the target score."""

from .extending import input_method


@input_method("input_x_gradient", definition="x · ∂f/∂x", citation="Shrikumar et al. 2016")
def input_x_gradient(x, g):
    return x * g
