"""The plugin manager and the registries filled from hooks.

``build_plugin_manager`` makes one pluggy ``PluginManager`` per app. The host registers its
own hook implementations and the four built-in plugins by name, loads third-party plugins
from the ``madrasa_lms.plugins`` entry-point group, and blocks any name listed in
``LMS_DISABLED_PLUGINS``. ``collect_registries`` then asks every plugin for its permissions,
navigation, panels, completion rules and report indicators, keyed by stable ids, refusing
duplicates.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from lms import hookspecs

if TYPE_CHECKING:
    from lms.accounts.models import User
    from lms.cohorts.models import Cohort
    from lms.progress.models import ProgressRecord
    from lms.reports.indicators import Indicator

ENTRY_POINT_GROUP = "madrasa_lms.plugins"
#: Built-ins, registered by name in this order, through the same hooks a third party uses.
BUILTIN_PLUGINS: dict[str, str] = {
    "curriculum": "curriculum.plugin",
    "lessons": "lessons.plugin",
    "quizzes": "quizzes.plugin",
    "certificates": "certificates.plugin",
}
CORE_PLUGIN = "lms.core_plugin"


class PluginError(RuntimeError):
    """A plugin registered something the host cannot accept (a duplicate id, a bad value)."""


@dataclass(frozen=True)
class Permission:
    """A named ability and the roles that grant it (scoped grants apply to scoped objects)."""

    id: str
    label: Any
    roles: frozenset[str]


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation, shown to users who hold ``permission`` somewhere."""

    id: str
    label: Any
    endpoint: str
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class DashboardPanel:
    """A block on the home page; ``render(user)`` returns HTML at request time."""

    id: str
    title: Any
    render: Callable[[User], str]
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class CohortSection:
    """A block on the cohort page; ``render(cohort, user)`` returns HTML at request time."""

    id: str
    title: Any
    render: Callable[[Cohort, User], str]
    permission: str = "cohorts.view"
    order: int = 100


@dataclass(frozen=True)
class ProgressItem:
    """Something a learner in a cohort should do: attend a session, pass a quiz."""

    item_type: str
    item_id: str
    label: Any
    required: bool = True
    passing_outcomes: frozenset[str] = frozenset({"completed", "passed", "attended"})

    @property
    def key(self) -> tuple[str, str]:
        return (self.item_type, self.item_id)


@dataclass(frozen=True)
class CompletionResult:
    """Whether one learner has completed a cohort, and why not when they have not."""

    completed: bool
    missing: tuple[Any, ...] = ()


@dataclass
class CompletionContext:
    """What a completion rule gets: the cohort, its items, its learners and their records."""

    cohort: Cohort
    items: list[ProgressItem]
    learner_ids: list[int]
    #: The latest record per (learner id, item type, item id) in this cohort.
    latest: Mapping[tuple[int, str, str], ProgressRecord]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompletionRule:
    """A named way to decide who has completed a cohort."""

    id: str
    label: Any
    evaluate: Callable[[CompletionContext], dict[int, CompletionResult]]
    description: Any = ""


@dataclass
class Registries:
    """Everything the plugins registered, keyed by stable id."""

    permissions: dict[str, Permission] = field(default_factory=dict)
    navigation: list[NavItem] = field(default_factory=list)
    panels: list[DashboardPanel] = field(default_factory=list)
    cohort_sections: list[CohortSection] = field(default_factory=list)
    completion_rules: dict[str, CompletionRule] = field(default_factory=dict)
    #: Report indicators by id, in the order the reports page shows them.
    indicators: dict[str, Indicator] = field(default_factory=dict)


@dataclass
class LmsState:
    """What the host keeps per app in ``app.extensions["lms"]``."""

    pm: pluggy.PluginManager
    registries: Registries


def build_plugin_manager(
    *,
    disabled: Iterable[str] = (),
    load_entrypoints: bool = True,
    extra_plugins: Iterable[object] = (),
) -> pluggy.PluginManager:
    """Make the manager: core, built-ins, entry points, then plugins passed to create_app."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    pm.register(importlib.import_module(CORE_PLUGIN), name="lms")
    for name, module in BUILTIN_PLUGINS.items():
        if not pm.is_blocked(name):
            plugin = importlib.import_module(module)
            _add_plugin_hookspecs(pm, plugin)
            pm.register(plugin, name=name)
    if load_entrypoints:
        # Built-ins are already registered under their entry-point names and are skipped.
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for plugin in pm.get_plugins():
            _add_plugin_hookspecs(pm, plugin)
    for plugin in extra_plugins:
        name = getattr(plugin, "PLUGIN_NAME", None) or getattr(plugin, "__name__", None)
        if name and pm.is_blocked(name):
            continue
        _add_plugin_hookspecs(pm, plugin)
        pm.register(plugin, name=name)
    pm.check_pending()
    return pm


def _add_plugin_hookspecs(pm: pluggy.PluginManager, plugin: object) -> None:
    """A plugin may declare hooks of its own in the module named by its ``HOOKSPECS``."""
    specs = getattr(plugin, "HOOKSPECS", None)
    if specs is None:
        return
    module = importlib.import_module(specs) if isinstance(specs, str) else specs
    added: set[object] = pm.__dict__.setdefault("_lms_hookspec_modules", set())
    if module not in added:
        pm.add_hookspecs(module)
        added.add(module)


def _flatten(results: Iterable[Iterable[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


def collect_registries(pm: pluggy.PluginManager) -> Registries:
    """Ask every plugin once; refuse duplicate ids so two plugins never shadow each other."""
    registries = Registries()
    for permission in _flatten(pm.hook.register_permissions()):
        _add_unique(registries.permissions, permission.id, permission, "permission")
    seen_nav: dict[str, NavItem] = {}
    for item in _flatten(pm.hook.register_navigation()):
        _add_unique(seen_nav, item.id, item, "navigation entry")
    registries.navigation = sorted(seen_nav.values(), key=lambda item: (item.order, item.id))
    seen_panels: dict[str, DashboardPanel] = {}
    for panel in _flatten(pm.hook.register_dashboard_panels()):
        _add_unique(seen_panels, panel.id, panel, "dashboard panel")
    registries.panels = sorted(seen_panels.values(), key=lambda panel: (panel.order, panel.id))
    seen_sections: dict[str, CohortSection] = {}
    for section in _flatten(pm.hook.register_cohort_sections()):
        _add_unique(seen_sections, section.id, section, "cohort section")
    registries.cohort_sections = sorted(seen_sections.values(), key=lambda s: (s.order, s.id))
    for rule in _flatten(pm.hook.register_completion_rules()):
        _add_unique(registries.completion_rules, rule.id, rule, "completion rule")
    seen_indicators: dict[str, Indicator] = {}
    for indicator in _flatten(pm.hook.register_indicators()):
        _add_unique(seen_indicators, indicator.id, indicator, "report indicator")
    registries.indicators = {
        indicator.id: indicator
        for indicator in sorted(seen_indicators.values(), key=lambda i: (i.order, i.id))
    }
    for entry in [*registries.navigation, *registries.panels, *registries.cohort_sections]:
        if entry.permission and entry.permission not in registries.permissions:
            raise PluginError(f"{entry.id!r} needs unknown permission {entry.permission!r}")
    return registries


def _add_unique(target: dict[str, Any], key: str, value: Any, what: str) -> None:
    if key in target:
        raise PluginError(f"two plugins register the {what} {key!r}")
    target[key] = value
