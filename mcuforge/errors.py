"""One exception type per kind of failure; the CLI turns each into one line and exit code 2."""


class McuforgeError(Exception):
    """Base of every error mcuforge reports to a user (never a bug in mcuforge itself)."""


class ModelFormatError(McuforgeError):
    """A model file that cannot be read: missing, empty, truncated, corrupt or not the expected format."""


class UnsupportedOpError(McuforgeError):
    """An operator (or an operator variant, e.g. a dtype) that mcuforge does not implement."""


class GraphValidationError(McuforgeError):
    """A graph whose shapes, dtypes or quantization parameters are inconsistent."""


class InputError(McuforgeError):
    """User-supplied data (an input tensor, a calibration set) of the wrong shape or dtype."""


class DoesNotFitError(McuforgeError):
    """A model that exceeds a memory limit (arena, flash) of the chosen target."""


class ToolchainError(McuforgeError):
    """An external tool (compiler, emulator) that is missing or failed."""
