"""A method a user adds from outside the package with an option of its own, registered on import.

`gradient_power` is |∂f/∂x| ** power; on `custom_method.linear_model` g = W[target] for every sample,
so its map has a closed form.
"""

import numbers

import tb_saliency.attribution as attribution

NAMES = ("gradient_power",)


def check_power(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 8:
        raise ValueError(f"{name}: expected a number in (0, 8], got {value!r}")
    return float(value)


POWER = attribution.Option("power", 2.0, check_power, "exponent of |∂f/∂x|")


@attribution.input_method("gradient_power", options=[POWER])
def gradient_power(x, g, *, power):
    """|∂f/∂x| ** power"""
    return g.abs() ** power
