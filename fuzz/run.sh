#!/bin/sh
# Coverage-guided fuzzing of the GIFT and module-file parsers for a fixed time.
#
#   fuzz/run.sh [SECONDS]        each harness runs SECONDS (default 60)
#
# New interesting inputs go to fuzz/work/<target>/ (not committed); a crash is saved as
# fuzz/crashes/<target>/crash-<sha1> and makes the script exit non-zero. Reproduce one with
#   python fuzz/fuzz_gift.py fuzz/crashes/gift/crash-…
# and add it to fuzz/corpus/<target>/ once fixed: the test suite replays the corpus.
# PYTHON picks the interpreter (default .venv/bin/python); FUZZ_JOBS runs that many
# workers per harness (default 1).
set -u
cd "$(dirname "$0")/.."
BUDGET="${1:-60}"
PYTHON="${PYTHON:-.venv/bin/python}"
JOBS="${FUZZ_JOBS:-1}"
if ! "$PYTHON" -c "import atheris" 2>/dev/null; then
    echo "atheris is not installed for $PYTHON: pip install -e '.[fuzz]'" >&2
    echo "(wheels exist for CPython 3.11-3.13 on x86-64 Linux; elsewhere pip builds it with clang)" >&2
    exit 2
fi
status=0
for target in gift markdown; do
    mkdir -p "fuzz/work/$target" "fuzz/crashes/$target"
    seeds="fuzz/corpus/$target"
    if [ "$target" = gift ] && [ -d ../shared/conformance/gift ]; then
        seeds="$seeds ../shared/conformance/gift"  # Moodle's fixtures, when checked out beside
    fi
    parallel=""
    if [ "$JOBS" -gt 1 ]; then
        # libFuzzer starts the workers by running the harness itself: with our interpreter.
        parallel="-jobs=$JOBS -workers=$JOBS"
        PATH="$(dirname "$PYTHON"):$PATH"
        export PATH
    fi
    echo "== fuzzing $target for ${BUDGET}s"
    # shellcheck disable=SC2086  # $seeds and $parallel are lists of words
    "$PYTHON" "fuzz/fuzz_$target.py" \
        -max_total_time="$BUDGET" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        -len_control=200 -print_final_stats=1 $parallel \
        -dict="fuzz/$target.dict" -artifact_prefix="fuzz/crashes/$target/" \
        "fuzz/work/$target" $seeds || status=1
done
if [ "$status" -ne 0 ]; then
    echo "fuzzing found a crash: see fuzz/crashes/" >&2
fi
exit "$status"
