# Python Procrastinate 3.10.0, the reference implementation, in a virtualenv of our own.
#
# Source this file and call `setup_python_reference`: it creates (once) `.venv-reference/`
# with procrastinate==3.10.0 and psycopg from PyPI, and exports
#   PROCRASTINATE_PYTHON          the virtualenv's python
#   PROCRASTINATE_PYTHON_SCHEMA   the schema.sql bundled with that package

PYTHON_REFERENCE_VERSION="3.10.0"

setup_python_reference() {
    local venv="${PROCRASTINATE_REFERENCE_VENV:-$PWD/.venv-reference}"
    if ! "$venv/bin/python" -c "import procrastinate, psycopg, sys; sys.exit(procrastinate.__version__ != '$PYTHON_REFERENCE_VERSION')" >/dev/null 2>&1; then
        echo "Installing Python procrastinate==$PYTHON_REFERENCE_VERSION into $venv..." >&2
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "procrastinate==$PYTHON_REFERENCE_VERSION" "psycopg[binary]" >&2
    fi
    export PROCRASTINATE_PYTHON="$venv/bin/python"
    PROCRASTINATE_PYTHON_SCHEMA=$("$PROCRASTINATE_PYTHON" -c \
        "import pathlib, procrastinate; print(pathlib.Path(procrastinate.__file__).parent / 'sql' / 'schema.sql')")
    export PROCRASTINATE_PYTHON_SCHEMA
}
