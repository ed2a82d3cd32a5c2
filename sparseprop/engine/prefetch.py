"""prefetch(array, i): a hint that array[i] (or row i of a 2-D array) will be read soon.

LLVM's prefetch intrinsic from numba: the CPU starts loading the cache line while the loop works
on earlier items, so the random reads of a spike's later targets (their heap position and, in
a heterogeneous network, their parameter row) overlap with the work on the current one. It never
changes a result. Measured in benchmarks/engine.py (see the README's performance section).
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, array, index):
    """Prefetch array[index] (1-D) or array[index, 0] (2-D) for reading; returns nothing."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        view = context.make_array(array_type)(context, builder, args[0])
        first = context.cast(builder, args[1], index_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        pointer = cgutils.get_item_pointer(context, builder, array_type, view,
                                           [first] + [zero] * (array_type.ndim - 1),
                                           wraparound=False)
        byte_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        # read (0), high temporal locality (3), data cache (1)
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen
