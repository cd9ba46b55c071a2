# `convnd filter` with a separable kernel, as two 1-D passes and as one 2-D kernel (--direct):
# the two BMP files must agree within one grey level per byte (checked by /usr/bin/python3).
foreach(v TOOL IMAGE KERNEL MODE OUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "filter_separable_test.cmake: ${v} not set")
  endif()
endforeach()
execute_process(COMMAND ${TOOL} filter ${IMAGE} --kernel ${KERNEL} --mode ${MODE} -o ${OUT}_sep.bmp
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "separable run failed (${rc})")
endif()
execute_process(COMMAND ${TOOL} filter ${IMAGE} --kernel ${KERNEL} --mode ${MODE} --direct
                        -o ${OUT}_direct.bmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "direct run failed (${rc})")
endif()
execute_process(COMMAND /usr/bin/python3 -c "
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
assert len(a) == len(b), 'sizes differ'
off = int.from_bytes(a[10:14], 'little')
assert a[:off] == b[:off], 'headers differ'
worst = max(abs(x - y) for x, y in zip(a[off:], b[off:]))
changed = sum(x != y for x, y in zip(a[off:], b[off:]))
print('max difference', worst, 'in', changed, 'of', len(a) - off, 'bytes')
sys.exit(0 if worst <= 1 else 1)
" ${OUT}_sep.bmp ${OUT}_direct.bmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "separable and direct results differ by more than one grey level")
endif()
