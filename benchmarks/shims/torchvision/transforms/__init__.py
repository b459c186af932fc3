"""The transforms pytorch_grad_cam.utils.image imports for its preprocessing helper, never measured."""


class _Unavailable:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} is a benchmark shim of torchvision; it must not be used")


class Compose(_Unavailable):
    pass


class Normalize(_Unavailable):
    pass


class ToTensor(_Unavailable):
    pass
