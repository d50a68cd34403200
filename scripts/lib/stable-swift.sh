# Runs SwiftPM in an environment that is the same from run to run.
#
# Source this file and call `stable_swift build …` instead of `swift build …`. SwiftPM
# evaluates every package manifest again when the environment differs from the previous
# build's, and a manifest that lists its traits in a Set (Hummingbird's) then orders their
# compiler flags anew half of the time, which recompiles the modules built with them (and our
# SQL-embedding plugin runs again). The variables these scripts set for one run (the random
# port of a throwaway server, the reference Python's paths) are left out of the build's
# environment, so that a second run compiles nothing.
stable_swift() {
    env -u PROCRASTINATE_DATABASE_URL -u DATABASE_URL -u PG_BIN -u PROCRASTINATE_PYTHON -u PROCRASTINATE_PYTHON_SCHEMA \
        -u PROCRASTINATE_CHAOS_SCALE -u PROCRASTINATE_WALKTHROUGH swift "$@"
}
