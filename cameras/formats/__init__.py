from .base import READERS, FormatError, Reader, Record, Rejection, decode, detect, get_reader, load_readers, register

__all__ = ["READERS", "FormatError", "Reader", "Record", "Rejection", "decode", "detect", "get_reader",
           "load_readers", "register"]
