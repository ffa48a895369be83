"""Low-level helpers for the Numba kernels, shared by ``models`` and ``sim``.

Each is a plain Python function (what the kernels' plain-Python twins run) with a Numba
overload that emits the compiled version.  Numba's cache keys on each kernel's own file:
after changing this module, delete the ``__pycache__/*.nb*`` files of the kernels that use
it.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["PREFETCH_AHEAD", "prefetch", "unowned"]

PREFETCH_AHEAD = 16
"""Events ahead of the current one whose state the kernels prefetch (16 was fastest of
8/16/32/64 on the burst detectors' 5 M-number benchmark)."""


def unowned(arrays: Any) -> Any:
    """The same arrays (one, or a tuple of them, nested or beside other values) as borrowed
    views: identity in Python.

    Compiled, the views carry no owner, so Numba's reference counting of them costs
    nothing.  A kernel whose helpers each unpack several arrays from a state tuple pays an
    atomic increment and decrement for every array a helper touches (Numba cannot prune the
    pairs across the helpers' branches); the platform's event kernel spent about two thirds
    of its time there.  The views are valid while the caller holds the arrays, i.e. for the
    kernel's call: a kernel must not return them or store them in anything that outlives
    it.  Values that are not arrays pass through unchanged.
    """
    return arrays


def _drop_owners(context: Any, builder: Any, ty: Any, value: Any) -> Any:
    if isinstance(ty, types.Array):
        ary = context.make_array(ty)(context, builder, value)
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()
    if isinstance(ty, types.BaseTuple):
        for k, member in enumerate(ty.types):
            view = _drop_owners(context, builder, member, builder.extract_value(value, k))
            value = builder.insert_value(value, view, k)
        return value
    # the result is a new reference: what passes through keeps its count (a typed list
    # handed back without this was freed once too often)
    context.nrt.incref(builder, ty, value)
    return value


def _holds_array(ty: Any) -> bool:
    if isinstance(ty, types.BaseTuple):
        return any(_holds_array(t) for t in ty.types)
    return isinstance(ty, types.Array)


@intrinsic
def _unowned(typingctx: Any, arrays: Any) -> Any:
    if not _holds_array(arrays):
        return None

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return _drop_owners(context, builder, sig.args[0], args[0])

    return arrays(arrays), codegen


@overload(unowned)
def _unowned_overload(arrays: Any) -> Any:
    def impl(arrays: Any) -> Any:
        return _unowned(arrays)

    return impl


def prefetch(arr: Any, i: int) -> None:
    """Hint that ``arr[i]`` will be written soon: a no-op in Python, ``llvm.prefetch`` in Numba.

    The per-number kernels are bound by cache misses on state arrays much larger than the
    cache; touching the state of the event ``PREFETCH_AHEAD`` positions ahead keeps several
    misses in flight even when the loop body is long (an ``exp`` call).  It never changes a
    result.
    """


@intrinsic
def _prefetch(typingctx: Any, arr: Any, i: Any) -> Any:
    sig = types.void(arr, i)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        arr_type = signature.args[0]
        ary = context.make_array(arr_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arr_type, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(  # llvm.prefetch.p0 (or .p0i8, typed pointers)
            builder.module,
            ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch." + i8p.intrinsic_name,
        )
        # rw=1 (write), locality=3 (keep in all cache levels), cache type=1 (data)
        builder.call(
            fn,
            [
                builder.bitcast(ptr, i8p),
                ir.Constant(i32, 1),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return sig, codegen


@overload(prefetch)
def _prefetch_overload(arr: Any, i: Any) -> Any:
    def impl(arr: Any, i: Any) -> None:
        _prefetch(arr, i)

    return impl
