"""``TrainConfig``: the settings of one training run, made from ``reglab.settings`` and checked once."""

from __future__ import annotations

import dataclasses
import textwrap

from .settings import SETTING_NAMES, SETTINGS

__all__ = ["TrainConfig", "COURSE_CONFIGS"]


def _from_settings(cls):
    """Give ``cls`` one field per declared setting (its default, its annotation), a docstring listing
    them, and make it a frozen dataclass."""
    cls.__annotations__ = {s.name: s.annotation for s in SETTINGS}
    for s in SETTINGS:
        setattr(cls, s.name, s.default)
    lines = [cls.__doc__.rstrip(), "", "    Parameters", "    ----------"]
    for s in SETTINGS:
        lines += [f"    {s.name} : {s.annotation}, default {s.default!r}",
                  textwrap.fill(f"{s.help} Allowed: {s.allowed()}.", 100, initial_indent=" " * 8, subsequent_indent=" " * 8)]
    cls.__doc__ = "\n".join(lines) + "\n"
    return dataclasses.dataclass(frozen=True)(cls)


@_from_settings
class TrainConfig:
    """Everything that defines how one network is trained, checked when it is made.

    Every value is checked at construction (a ``ValueError`` or ``TypeError`` naming the setting,
    what is allowed and what was given); ``keep_prob`` is stored as one value per hidden layer.
    The fields are declared in ``reglab.settings.SETTINGS``.
    """

    def __post_init__(self):
        n_hidden = len(SETTINGS[0].check(self.hidden_layer_sizes))
        for declared in SETTINGS:
            value = declared.check(getattr(self, declared.name), n_hidden=n_hidden)
            object.__setattr__(self, declared.name, value)

    @property
    def uses_dropout(self) -> bool:
        return any(p < 1 for p in self.keep_prob)

    def layer_sizes(self, n_features: int) -> tuple[int, ...]:
        """``(n_features, *hidden_layer_sizes, 1)``, the course's ``layers_dims``."""
        return (n_features, *self.hidden_layer_sizes, 1)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in SETTING_NAMES}

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        unknown = set(data) - set(SETTING_NAMES)
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}; allowed: {sorted(SETTING_NAMES)}")
        data = dict(data)
        for key in ("hidden_layer_sizes", "keep_prob"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        return cls(**data)


#: The notebook's three models, by name.
COURSE_CONFIGS = {
    "no regularization": TrainConfig(),
    "L2 (lambd=0.7)": TrainConfig(l2=0.7),
    "dropout (keep_prob=0.86)": TrainConfig(keep_prob=0.86),
}
