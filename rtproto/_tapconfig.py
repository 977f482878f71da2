"""
C{--config FILE}: the C{twistd rtproto} settings in a TOML file, for larger
deployments.  Each key is a long option's name without its dashes, with the
value the option takes::

    listen = ["tcp:8080", "ssl:8443:privateKey=key.pem:certKey=cert.pem"]
    ws = ["/ws=echo"]                  # or a table: [ws] "/ws" = "echo"
    ping-interval = 20
    compression = false                # a flag: true, or false for its no- form

The file becomes command-line arguments placed before the real ones, so
an option given on the command line wins; a repeatable option given there
replaces the file's list rather than adding to it.  Every mistake is a
L{usage.UsageError} naming the file and the key.

TOML is read with the standard library's C{tomllib} (Python 3.11+), or
with C{tomli} on Python 3.10.
"""

from twisted.python import usage

#: Options that take several values (a list, or a table of PATH = HANDLER).
REPEATABLE = ("listen", "ws", "engineio", "namespace", "sse", "static")


def _names(options) -> "tuple[set, set]":
    """
    The long flag names and the long parameter names of C{options}.
    """
    flags = {name for name in options.longOpt if not name.endswith("=")}
    params = {name[:-1] for name in options.longOpt if name.endswith("=")}
    return flags - {"help", "version", "config"}, params - {"config"}


def _given(argv: "list[str]") -> set:
    """
    The option names given on a command line (C{--name} or C{--name=v}).
    """
    names = set()
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--"):
            name = arg[2:].split("=", 1)[0]
            names.add(name)
            if name.startswith("no-"):
                names.add(name[3:])
            else:
                names.add("no-" + name)
    return names


def _values(path: str, key: str, value) -> "list[str]":
    """
    The values of repeatable C{key}: a list of strings, one string, or a
    table C{{PATH: HANDLER}}.
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return [f"{k}={v}" for k, v in value.items()]
    raise usage.UsageError(f"{path}: {key} takes a list of strings or a table of strings, not {value!r}")


def _toml():
    """
    The TOML reader: C{tomllib}, or C{tomli} where Python has no
    C{tomllib}.

    @raise usage.UsageError: neither is there.
    """
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise usage.UsageError("--config needs Python 3.11+, or the tomli package on Python 3.10") from None
    return tomllib


def configArguments(options, path: str, argv: "list[str]") -> "list[str]":
    """
    Read the TOML file at C{path} into C{twistd} arguments for C{options},
    leaving out every setting that C{argv} (the command line) gives.

    @raise usage.UsageError: the file cannot be read or parsed, or holds an
        unknown key or a value of the wrong kind.
    """
    tomllib = _toml()
    try:
        with open(path, "rb") as f:
            config = tomllib.load(f)
    except OSError as e:
        raise usage.UsageError(f"--config {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise usage.UsageError(f"--config {path}: not valid TOML: {e}") from None
    flags, params = _names(options)
    given = _given(argv)
    arguments: "list[str]" = []
    for key, value in config.items():
        if key == "config":
            raise usage.UsageError(f"{path}: a config file cannot name another one")
        if key.startswith("no-") and key[3:] in flags:
            raise usage.UsageError(f"{path}: write {key[3:]} = false, not {key} = true")
        negated = key not in flags and f"no-{key}" in flags
        if key not in flags and key not in params and not negated:
            raise usage.UsageError(
                f"{path}: unknown setting {key!r} (settings are the long options of "
                "`twistd rtproto --help`, without their dashes)"
            )
        if key in given:
            continue
        if key in flags or negated:
            if not isinstance(value, bool):
                raise usage.UsageError(f"{path}: {key} is a flag: true or false, not {value!r}")
            if value and not negated:
                arguments.append(f"--{key}")
            elif not value and f"no-{key}" in flags:
                arguments.append(f"--no-{key}")
        elif key in REPEATABLE:
            for item in _values(path, key, value):
                arguments.append(f"--{key}={item}")
        else:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise usage.UsageError(f"{path}: {key} takes a string or a number, not {value!r}")
            arguments.append(f"--{key}={value}")
    return arguments


def splitConfig(argv: "list[str]") -> "tuple[str | None, list[str]]":
    """
    Take C{--config FILE} (or C{--config=FILE}) out of C{argv}.

    @return: the file (or L{None}) and the other arguments.
    @raise usage.UsageError: C{--config} given twice or without a file.
    """
    found = None
    rest: "list[str]" = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest.append(arg)
            rest.extend(args)
            break
        value = None
        if arg == "--config":
            value = next(args, None)
            if value is None:
                raise usage.UsageError("--config takes a file")
        elif arg.startswith("--config="):
            value = arg[len("--config="):]
        else:
            rest.append(arg)
            continue
        if found is not None:
            raise usage.UsageError("--config given twice")
        found = value
    return found, rest
