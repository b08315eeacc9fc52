"""The process's long-lived objects, kept out of the garbage collector's passes."""

import gc


def freeze_startup_objects() -> None:
    """Leave the objects made at start-up (modules, templates, mappers, the pinyin and
    segmentation tables: hundreds of thousands, alive as long as the process) out of the
    collector's passes. A full pass walks every tracked object: about 400,000 in a web
    process, some 150 ms in which that process answers nothing, once every few hundred
    searches; a worker makes enough short-lived objects per mail to start one every few
    seconds. Objects frozen here are still freed by their reference counts."""
    gc.collect()
    gc.freeze()
