"""Zero-copy hand-off of sluice batches to pyarrow and DuckDB.

Loads libsluice.so with ctypes, reads a file (CSV, JSON Lines, Parquet or
Avro) into one batch through sl_arrow_read_file, and imports the exported
Arrow C Data Interface structs into pyarrow with RecordBatch._import_from_c:
pyarrow then owns sluice's column buffers (no copy) and frees them through
the release callbacks when the last Arrow object goes away. DuckDB scans the
resulting pyarrow object in place.

    python examples/arrow/sluice_arrow.py data.csv
    SLUICE_LIB=build/libsluice.so python examples/arrow/sluice_arrow.py data.parquet
"""
import ctypes
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
    ("private_data", ctypes.c_void_p),
]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p),
]


class SlErr(ctypes.Structure):
    """sl_err from include/sluice/error.h."""
    _fields_ = [
        ("code", ctypes.c_int), ("file", ctypes.c_char * 512), ("line", ctypes.c_int64),
        ("col", ctypes.c_int64), ("offset", ctypes.c_int64), ("field", ctypes.c_char * 256),
        ("msg", ctypes.c_char * 1024),
    ]


def load_library(path=None):
    path = path or os.environ.get("SLUICE_LIB") or str(ROOT / "build" / "libsluice.so")
    lib = ctypes.CDLL(path)
    lib.sl_arrow_read_file.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.POINTER(ArrowSchema),
                                       ctypes.POINTER(ArrowArray), ctypes.POINTER(SlErr)]
    lib.sl_arrow_read_file.restype = ctypes.c_int
    lib.sl_err_format.argtypes = [ctypes.POINTER(SlErr), ctypes.c_char_p, ctypes.c_size_t]
    return lib


def read_record_batch(lib, path, max_rows=50_000_000):
    """A pyarrow.RecordBatch over sluice's own buffers (no copy)."""
    import pyarrow as pa
    schema, array, err = ArrowSchema(), ArrowArray(), SlErr()
    rc = lib.sl_arrow_read_file(str(path).encode(), max_rows, ctypes.byref(schema), ctypes.byref(array),
                                ctypes.byref(err))
    if rc != 0:
        buf = ctypes.create_string_buffer(2048)
        lib.sl_err_format(ctypes.byref(err), buf, len(buf))
        raise RuntimeError(buf.value.decode(errors="replace"))
    # pyarrow moves the structs (marks them released) and calls sluice's
    # release callbacks when the batch is garbage collected.
    return pa.RecordBatch._import_from_c(ctypes.addressof(array), ctypes.addressof(schema))


def main(argv):
    import duckdb
    if len(argv) != 2:
        print(__doc__)
        return 2
    lib = load_library()
    batch = read_record_batch(lib, argv[1])
    print(batch.schema)
    print(f"{batch.num_rows} rows; first column buffers live in sluice's memory:",
          [hex(b.address) for b in batch.column(0).buffers() if b is not None])
    con = duckdb.connect()
    con.register("t", batch)  # DuckDB scans the Arrow memory in place
    print(con.sql("SELECT count(*) AS n FROM t").fetchall())
    print(con.sql("SELECT * FROM t LIMIT 5"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
