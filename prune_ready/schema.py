"""Typed configs: every node is checked against what it configures before anything runs.

A node with ``_target_`` is checked against the target's signature (a dataclass's fields, a
class's ``__init__``, a function's parameters, following ``**kwargs`` to the base class): a key
the target does not take, or a value of the wrong type for its annotation, is refused in one line
naming the key (``model.lr='abc': expected a float``). Nodes without a target are described by
the dataclasses below. So each part's typed hparams live in one place, its own signature; for an
optimizer that is the torch.optim class's own (a `name` beside its arguments names the option).
"""

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from hydra.utils import get_object
from omegaconf import DictConfig, MissingMandatoryValue, OmegaConf

from prune_ready.errors import UserError
from prune_ready.pruning.steps import Step


class NamedTarget:
    """A node with `_target_` whose keys are the target's arguments plus `name`, which names the
    option and is not passed on (conf/optimizer/: a torch.optim class's own signature)."""


@dataclass
class Model:
    name: str
    net: Any  # a node with _target_ (the network class)
    lr: float
    lth_iterations: int
    prune_rates: dict[str, float]
    channels_last: bool = False
    compile: bool = False


@dataclass
class Stability:
    """What pruning.control=stability measures (prune_ready.stability)."""

    rounds: Literal["all"] | list[int]
    points: int


@dataclass
class Train:
    """The top level of conf/train.yaml."""

    name: str
    debug: bool
    seed: int
    threads: int | None
    effective_batch_size: Any  # a record of data.batch_size (whose type is checked there)
    progress_bar: Any
    paths: dict[str, str]
    logger: dict[str, Any]  # one node per logger (conf/logger/), each checked against its class
    recorders: dict[str, str]  # name: a recorder class's import path (conf/recorders/)
    data: Any
    model: Model
    init: Any
    pruning: Any
    optimizer: NamedTarget
    lr_schedule: Any
    trainer: Any
    stability: Stability


def validate(cfg: DictConfig) -> None:
    """Raise UserError naming the first key of `cfg` whose name or type is wrong."""
    try:
        tree = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as e:  # ??? in a yaml: a value without a default
        raise UserError(f"{e.full_key} must be set: add {e.full_key}=<value>") from e
    except Exception as e:  # a bad interpolation, e.g. ${oc.decode:...} of a malformed value
        raise UserError(f"the config does not resolve: {' '.join(str(e).split())}") from e
    check(tree, Train, "")


def check_group_options(overrides: Sequence[str], conf_dir: Path) -> None:
    """Raise UserError for a config group option `conf_dir` lacks (``init=nope``), each value of a
    sweep too: Hydra reports one in a dozen lines, in a multirun after making the sweep directory.

    Hydra's own groups (hydra/launcher=...) and syntax errors are left to Hydra.
    """
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception:
        return
    for override in parsed:
        group = override.key_or_group
        if (
            group.split("/")[0] == "hydra"
            or override.is_delete()
            or not (conf_dir / group).is_dir()
        ):
            continue
        if isinstance(override.value(), Glob):
            continue  # matches only existing options
        options = sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
        if override.is_sweep_override():
            values = list(override.sweep_string_iterator())
        elif isinstance(override.value(), list):  # several options at once: logger=[a,b]
            values = [str(v) for v in override.value()]
        else:
            values = [override.get_value_element_as_str()]
        for value in values:
            if value not in options:
                raise UserError(
                    f"{group}={value}: no such option; choose one of: {', '.join(options)}"
                )


def check(value: Any, annotation: Any, key: str) -> None:
    """Check `value` (at `key`) against `annotation`; recurse into config nodes."""
    if isinstance(value, Mapping) and "_target_" in value:
        annotations, open_ended = parameters(value["_target_"], key)
        if annotation is NamedTarget:
            annotations = {**annotations, "name": str}
        check_node(value, (annotations, open_ended), key)
    elif dataclasses.is_dataclass(annotation) and isinstance(value, Mapping):
        check_node(value, (hints(annotation), False), key)
    elif isinstance(value, Mapping) and typing.get_origin(annotation) in (dict, Mapping):
        args = typing.get_args(annotation)
        for name, item in value.items():  # each entry named: model.prune_rates.fc='abc'
            check(item, args[1] if len(args) == 2 else Any, f"{key}.{name}")
    elif not fits(value, annotation):
        raise UserError(f"{key}={value!r}: expected {describe(annotation)}")


def check_node(node: Mapping, params: tuple[dict[str, Any], bool], key: str) -> None:
    annotations, open_ended = params
    leaves_first = sorted(node.items(), key=lambda item: isinstance(item[1], Mapping))
    for name, value in leaves_first:
        if name.startswith("_"):
            continue
        where = f"{key}.{name}" if key else name
        if name not in annotations:
            if open_ended:
                continue
            known = ", ".join(sorted(annotations))
            raise UserError(f"{where} is not a setting here: the settings are {known}")
        check(value, annotations[name], where)


def parameters(target: str, key: str) -> tuple[dict[str, Any], bool]:
    """The annotated parameters of `target`, and whether it takes further keyword arguments."""
    try:
        obj = get_object(target)
    except Exception as e:
        raise UserError(f"{key}._target_={target!r} cannot be imported: {e}") from e
    if dataclasses.is_dataclass(obj):
        fields = {f.name for f in dataclasses.fields(obj) if f.init}
        return {k: v for k, v in hints(obj).items() if k in fields}, False
    annotations: dict[str, Any] = {}
    for owner in inspect.getmro(obj) if inspect.isclass(obj) else [obj]:
        function = owner.__init__ if inspect.isclass(obj) else owner
        if inspect.isclass(obj) and "__init__" not in vars(owner):
            continue
        signature = inspect.signature(inspect.unwrap(function))
        found = hints(inspect.unwrap(function))
        for name, param in signature.parameters.items():
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                annotations.setdefault(name, found.get(name, Any))
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return annotations, False
    return annotations, True


def hints(obj: Any) -> dict[str, Any]:
    """Resolved annotations (Any where they cannot be resolved)."""
    try:
        return typing.get_type_hints(obj)
    except Exception:
        raw = getattr(obj, "__annotations__", {})
        return {k: v if not isinstance(v, str) else Any for k, v in raw.items()}


def fits(value: Any, annotation: Any) -> bool:
    """Whether a plain config value can stand for `annotation` (unknown kinds are let through)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (Any, inspect.Parameter.empty) or isinstance(annotation, typing.TypeVar):
        return True
    if origin in (Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if origin is Literal:
        return value in args
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation is Step:
        try:
            Step.parse(value)
        except (ValueError, TypeError):
            return False
        return True
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        if not isinstance(value, Mapping):
            return False
        return len(args) != 2 or all(fits(v, args[1]) for v in value.values())
    if origin in (list, tuple) or annotation in (list, tuple):
        if not isinstance(value, list | tuple):
            return False
        return not args or origin is tuple or all(fits(v, args[0]) for v in value)
    if inspect.isclass(annotation) and annotation.__module__ != "builtins":
        return value is None or isinstance(value, Mapping)  # an object: configured by a node
    return True


def is_tensor_type(annotation: Any) -> bool:
    """Whether `annotation` is torch.Tensor, without importing torch."""
    return getattr(annotation, "__module__", "") == "torch" and annotation.__name__ == "Tensor"


def describe(annotation: Any) -> str:
    """`annotation` in words, for the error line."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        choices = [c for a in args for c in literals(a)]
        # torch.optim takes a tensor learning rate too; a config holds the number (compared by
        # name: the command line checks configs before torch is imported)
        others = [describe(a) for a in args if not literals(a) and not is_tensor_type(a)]
        return " or ".join(
            ([f"one of {', '.join(map(repr, choices))}"] if choices else []) + others
        )
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    names = {
        type(None): "null",
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        Step: "a length such as 5ep or 500it",
    }
    if annotation in names:
        return names[annotation]
    if origin in (dict, Mapping) and len(args) == 2:
        return f"a mapping (each value {describe(args[1])})"
    if origin in (list, tuple):
        return "a list"
    return f"a config node for {getattr(annotation, '__name__', annotation)}"


def literals(annotation: Any) -> list[Any]:
    """The values of a Literal, or of a union of Literals ([] for anything else)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return list(args)
    if origin in (Union, types.UnionType) and all(literals(a) for a in args):
        return [c for a in args for c in literals(a)]
    return []
