"""save() / load() against hostile and broken files: everything is refused from the archive's
headers, before any array data is read, with a ValueError naming the file and the member, at
little memory cost, and the model is left as it was. Buffers must be numeric to be saved."""
from __future__ import annotations

import io
import pathlib
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_core import Tensor, Value

from .helpers import assert_untouched, snapshot

MiB = 2 ** 20


def _model() -> nn.Module:
    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4))
    model(np.random.default_rng(0).normal(size=(6, 3)))          # moves the running statistics
    return model


def _header(shape: tuple[int, ...], descr: str = "<f8", version: tuple[int, int] = (1, 0)) -> bytes:
    buf = io.BytesIO()
    d = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, d)
    else:
        np.lib.format.write_array_header_2_0(buf, d)
    return buf.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _write_archive(path: Path, model: nn.Module, replace: dict[str, bytes] | None = None,
                   extra: dict[str, tuple[bytes, int]] | None = None) -> Path:
    """A genuine checkpoint of ``model``, members in ``replace`` swapped for other bytes, and
    ``extra`` members added or swapped: (header bytes, count of zero bytes that follow),
    deflate-compressed, so that a few KiB on disk hold many MiB."""
    replace, extra = dict(replace or {}), dict(extra or {})
    with zipfile.ZipFile(path, "w") as zf:
        for key, arr in model.state_dict().items():
            if f"{key}.npy" not in extra:
                zf.writestr(f"{key}.npy", replace.pop(f"{key}.npy", None) or _npy(arr))
        for name, data in replace.items():
            zf.writestr(name, data)
        for name, (head, zeros) in extra.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as member:
                member.write(head)
                chunk = bytes(MiB)
                for _ in range(zeros // MiB):
                    member.write(chunk)
                member.write(bytes(zeros % MiB))
    return path


def _refused(model: nn.Module, path: Path, *parts: str, strict: bool = True,
             budget: int = 4 * MiB) -> str:
    """Load ``path``, expect a ValueError naming the file and ``parts``; return the message.
    Also checks that refusing allocated little memory and changed nothing."""
    before = snapshot(model)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            model.load(path, strict=strict)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message
    for part in parts:
        assert part in message, (part, message)
    assert peak < budget, f"refusing cost {peak / MiB:.1f} MiB"
    assert_untouched(model, before)
    return message


def test_round_trip_is_a_plain_npz_numpy_can_read(tmp_path):
    model = _model()
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model.state_dict())
        np.testing.assert_array_equal(archive["0.weight"], model[0].weight.data)
    other = nn.Sequential(nn.Linear(3, 4, seed=1), nn.BatchNorm1d(4))
    assert other.load(path) == ([], [])
    assert_untouched(other, snapshot(model))
    assert list(tmp_path.iterdir()) == [path]                  # no partial file left behind


def test_names_that_clash_with_numpy_savez_arguments_round_trip(tmp_path):
    class Odd(nn.Module):
        def __init__(self, v):
            super().__init__()
            self.file = Tensor(np.full(2, v), requires_grad=True)
            self.allow_pickle = Tensor(np.full(3, v), requires_grad=True)

    Odd(1.0).save(tmp_path / "odd.npz")
    loaded = Odd(0.0)
    loaded.load(tmp_path / "odd.npz")
    assert loaded.file.data.tolist() == [1.0, 1.0] and loaded.allow_pickle.data.sum() == 3.0


def test_float32_model_round_trips_in_float32(tmp_path):
    a = nn.Linear(2, 3, dtype=np.float32, seed=0)
    a.save(tmp_path / "f32.npz")
    b = nn.Linear(2, 3, dtype=np.float32, seed=1)
    b.load(tmp_path / "f32.npz")
    assert b.weight.dtype == np.float32
    np.testing.assert_array_equal(b.weight.data, a.weight.data)


def test_load_and_save_refuse_a_directory_saying_so(tmp_path):
    model = _model()
    before = snapshot(model)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        model.load(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        model.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        model.load(tmp_path / "missing.npz")
    assert_untouched(model, before)


def test_header_claiming_800_gb_is_refused_from_the_header(tmp_path):
    model = _model()
    huge = _header((100_000, 1_000_000))                            # 8e11 bytes of float64
    path = _write_archive(tmp_path / "huge.npz", model, replace={"0.weight.npy": huge})
    assert path.stat().st_size < 10_000
    _refused(model, path, "'0.weight.npy'", "(100000, 1000000)", "(4, 3)")
    path = _write_archive(tmp_path / "huge_extra.npz", model, replace={"big.npy": huge})
    _refused(model, path, "'big.npy'", "unexpected")
    assert model.load(path, strict=False).unexpected_keys == ["big"]  # skipped, never read


def test_compressed_zeros_under_an_unexpected_key_are_never_read(tmp_path):
    model = _model()
    size = 100 * MiB
    path = _write_archive(tmp_path / "bomb.npz", model,
                          extra={"junk.npy": (_header((size,), "|u1"), size)})
    assert path.stat().st_size < MiB                           # 100 MiB inside, ~100 KiB on disk
    _refused(model, path, "'junk.npy'", "unexpected keys: ['junk']")
    before = snapshot(model)
    tracemalloc.start()
    try:
        result = model.load(path, strict=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.unexpected_keys == ["junk"] and peak < 4 * MiB
    assert_untouched(model, before)                             # the genuine arrays loaded


def test_expected_key_with_more_data_than_its_header_is_refused_before_reading(tmp_path):
    model = _model()
    path = _write_archive(tmp_path / "long.npz", model,
                          extra={"0.bias.npy": (_header((4,)), 64 * MiB)})
    _refused(model, path, "'0.bias.npy'", "bytes its header announces")


def test_version_2_header_claiming_a_4_gb_header_is_refused(tmp_path):
    model = _model()
    head = b"\x93NUMPY\x02\x00" + struct.pack("<I", 2 ** 32 - 1)
    path = _write_archive(tmp_path / "longheader.npz", model,
                          extra={"0.weight.npy": (head, 32 * MiB)})
    _refused(model, path, "'0.weight.npy'", "header")


def test_npy_file_with_a_zip_appended_is_not_an_npz(tmp_path):
    model = _model()
    genuine = tmp_path / "genuine.npz"
    model.save(genuine)
    path = tmp_path / "polyglot.npz"
    path.write_bytes(_npy(np.zeros(3)) + genuine.read_bytes())
    assert zipfile.is_zipfile(path)                            # it does look like a zip at the end
    _refused(model, path, "not an .npz archive", "single .npy array")


def test_object_dtype_is_refused_from_the_header_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"

    class Trap:
        def __reduce__(self):
            return pathlib.Path.touch, (marker,)

    obj = np.empty((4, 3), dtype=object)
    obj[...] = Trap()
    model = _model()
    path = _write_archive(tmp_path / "pickle.npz", model, replace={"0.weight.npy": _npy(obj)})
    _refused(model, path, "'0.weight.npy'", "object", "real numbers")
    assert not marker.exists()


@pytest.mark.parametrize("member,head,body,words", [
    ("1.num_batches_tracked.npy", _header((), "<f8"), np.float64(2.5).tobytes(), "cannot take"),
    ("0.bias.npy", _header((4,), "<c16"), bytes(64), "real numbers"),
    ("0.bias.npy", _header((4,), "<f8"), bytes(16), "bytes its header announces"),   # truncated
    ("0.bias.npy", b"\x93NUMPY\x03\x00" + bytes(60), b"", "version 3.0"),
    ("0.bias.npy", b"PK-not-an-npy" + bytes(100), b"", "header"),
    ("0.bias.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 1, }\n", b"", "header"),
], ids=["float_into_int_buffer", "complex", "truncated", "version_3", "no_magic", "bad_header"])
def test_bad_member_headers_are_refused_naming_the_member(tmp_path, member, head, body, words):
    model = _model()
    path = _write_archive(tmp_path / "bad.npz", model, replace={member: head + body})
    _refused(model, path, repr(member), words)


def test_corrupt_data_with_a_right_sized_member_fails_its_crc(tmp_path):
    model = _model()
    path = tmp_path / "model.npz"
    model.save(path)
    raw = bytearray(path.read_bytes())
    data = model[0].weight.data.tobytes()
    at = raw.index(data)
    raw[at + 5] ^= 0xFF
    path.write_bytes(bytes(raw))
    _refused(model, path, "'0.weight.npy'")


def test_duplicate_and_foreign_members(tmp_path):
    model = _model()
    path = _write_archive(tmp_path / "notes.npz", model, replace={"README.txt": b"hello"})
    _refused(model, path, "'README.txt'", "not an .npy array")
    assert model.load(path, strict=False) == ([], [])           # ignored when not strict
    path = tmp_path / "dup.npz"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)              # zipfile: "Duplicate name"
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("0.bias.npy", _npy(np.ones(4)))
    _refused(model, path, "'0.bias.npy'", "more than once")


def test_missing_members_are_named(tmp_path):
    model = _model()
    path = tmp_path / "small.npz"
    nn.Sequential(nn.Linear(3, 4, seed=0)).save(path)
    message = _refused(model, path, "missing keys", "'1.running_mean.npy'")
    assert "'0.weight" not in message


# -- a zip directory far larger than the model needs (issue 23, item 10) --------------------------
def _many_empty_members(path: Path, names: list[str], zip64: bool = False) -> Path:
    """A valid zip of empty stored members, written byte by byte (fast for 20,000 members);
    with ``zip64`` the counts live in a Zip64 end record, as a writer puts them past 65,535."""
    local, central, offset = [], [], 0
    for name in names:
        raw = name.encode()
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(raw), 0)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
        local.append(header + raw)
        offset += len(header) + len(raw)
    directory = b"".join(central)
    n = len(names)
    tail = b""
    if zip64:
        tail = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(directory),
                           offset)
        tail += struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + len(directory), 1)
        n, size, start = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    else:
        size, start = len(directory), offset
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, size, start, 0)
    path.write_bytes(b"".join(local) + directory + tail + end)
    return path


@pytest.mark.parametrize("zip64", [False, True], ids=["end record", "zip64 end record"])
def test_an_archive_of_many_empty_members_is_refused_from_its_end_record(tmp_path, zip64):
    """zipfile parses the whole central directory when it opens a file: 100,000 members cost
    70 MB and a 2.4 MB message. The member count is read from the end record first."""
    model = _model()
    path = _many_empty_members(tmp_path / "many.npz", [f"m{i}.npy" for i in range(20_000)], zip64)
    assert len(zipfile.ZipFile(path).infolist()) == 20_000      # a valid archive
    message = _refused(model, path, "refused before its zip directory is read",
                       "20000 members", "Sequential expects 7 arrays", budget=MiB // 4)
    assert "\n" not in message and len(message) < 400


def test_a_huge_zip_directory_of_few_members_is_refused_from_its_end_record(tmp_path):
    model = _model()
    names = [f"{i:04d}{'x' * 4000}.npy" for i in range(300)]    # 300 members, 1.2 MB of names
    path = _many_empty_members(tmp_path / "long_names.npz", names)
    message = _refused(model, path, "refused before its zip directory is read", "300 members",
                       budget=MiB // 4)
    assert "\n" not in message and len(message) < 400


def test_a_few_hundred_unexpected_members_are_counted_not_all_listed(tmp_path):
    model = _model()
    path = tmp_path / "extra.npz"
    model.save(path)
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(300):
            zf.writestr(f"extra{i}.npy", _npy(np.zeros(1)))
    message = _refused(model, path, "unexpected keys", "'extra0.npy'", "and 280 more")
    assert "'extra299.npy'" not in message and len(message) < 2000
    assert len(model.load(path, strict=False).unexpected_keys) == 300   # not strict: loads


# -- buffers and parameters must be numeric (item 16) ---------------------------------------------
@pytest.mark.parametrize("bad", [np.array([{"a": 1}], dtype=object), np.array(["x", "y"]),
                                 np.zeros(2, dtype=complex),
                                 np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")])])
def test_register_buffer_refuses_non_numeric_arrays(bad):
    module = nn.Module()
    with pytest.raises(TypeError) as info:
        module.register_buffer("stats", bad)
    assert "'stats'" in str(info.value) and str(bad.dtype) in str(info.value)
    assert "stats" not in module._buffers


def test_assigning_a_buffer_keeps_it_a_checked_buffer(tmp_path):
    bn = nn.BatchNorm1d(3)
    bn.running_mean = np.full(3, 2.0)                         # PyTorch: replaces the buffer
    assert "running_mean" in dict(bn.named_buffers())
    assert bn.state_dict()["running_mean"].tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="'running_var' has dtype object"):
        bn.running_var = np.array([None, None, None], dtype=object)
    with pytest.raises(TypeError, match="'running_var' must be a numpy array or None"):
        bn.running_var = [1.0, 1.0, 1.0]
    assert bn.running_var.dtype == np.float64
    bn.save(tmp_path / "bn.npz")
    fresh = nn.BatchNorm1d(3)
    fresh.load(tmp_path / "bn.npz")
    assert fresh.running_mean.tolist() == [2.0, 2.0, 2.0]


def test_parameters_must_hold_floats():
    t = Tensor(np.zeros(2), requires_grad=True)
    t.data = np.array(["a", "b"])
    module = nn.Module()
    with pytest.raises(TypeError, match="parameter 'w' has dtype <U1"):
        module.w = t
    with pytest.raises(TypeError, match="parameter 'ws' has dtype <U1"):
        module.ws = [Tensor(np.zeros(1), requires_grad=True), t]
    module.v = Value(1.0)
    assert [n for n, _ in module.named_parameters()] == ["v"]


def test_save_refuses_a_buffer_made_non_numeric_by_hand_and_keeps_the_old_file(tmp_path):
    model = _model()
    path = tmp_path / "model.npz"
    model.save(path)
    original = path.read_bytes()
    model[1]._buffers["running_mean"] = np.array([object()] * 4)     # bypassing every check
    with pytest.raises(TypeError, match=r"'1.running_mean' \(object\)"):
        model.save(path)
    assert path.read_bytes() == original and list(tmp_path.iterdir()) == [path]
