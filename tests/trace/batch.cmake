# scripts/check --batch (batch_test.py): a batch of corpus copies, and a hostile batch (fork
# bomb, endless loop, 10 GB, writes outside, builds that fail or hang). Root and a cgroup
# (SKIP otherwise): each submission in namespaces, a cgroup and as nobody, with a session
# daemon of its own. The hostile batch runs alone (RUN_SERIAL: its endless loop takes a whole
# core for its time bound, which would slow the timing of tests beside it); the corpus batch
# only keeps the lock of the tests that trace (the nobody processes of check_ordinary_user).
foreach(s corpus hostile)
  add_test(NAME trace.batch_${s} COMMAND ${V6LAB_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/batch_test.py ${s})
  set_tests_properties(trace.batch_${s} PROPERTIES LABELS "trace;netns" TIMEOUT 300
    ENVIRONMENT "V6LAB_BIN=${CMAKE_BINARY_DIR}/bin" SKIP_RETURN_CODE ${V6LAB_SKIP_CODE})
endforeach()
set_tests_properties(trace.batch_hostile PROPERTIES RUN_SERIAL TRUE)
set_tests_properties(trace.batch_corpus PROPERTIES RESOURCE_LOCK lttng-sessiond)
