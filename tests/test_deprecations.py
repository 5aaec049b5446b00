"""Deprecated usage fails the suite on every Home Assistant version (2026.2 and 2026.10)."""

from __future__ import annotations

from typing import TYPE_CHECKING
import warnings

from homeassistant.helpers import frame
import pytest

from custom_components.espresso_care.const import DOMAIN

if TYPE_CHECKING:
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.mark.parametrize(
    "module", ["custom_components.espresso_care", "custom_components.espresso_care.sensor"]
)
def test_deprecation_warning_from_our_modules_is_an_error(module: str) -> None:
    """pyproject.toml's filterwarnings: the package and each of its modules."""
    with pytest.raises(DeprecationWarning, match="old call"):
        warnings.warn_explicit("old call", DeprecationWarning, "x.py", 1, module=module)


def test_deprecation_warning_from_elsewhere_is_no_error() -> None:
    """Other packages' deprecations are theirs to fix (they stay warnings)."""
    with pytest.warns(DeprecationWarning, match="old call"):
        warnings.warn_explicit("old call", DeprecationWarning, "x.py", 1, module="somewhere")


@pytest.mark.deprecation_reports
async def test_home_assistant_report_of_our_usage_is_caught(
    init_integration: MockConfigEntry, deprecation_reports: list[str]
) -> None:
    """Home Assistant's own report of a deprecated call (a log line) is collected; unmarked,
    the test would fail at teardown (tests/conftest.py)."""
    assert deprecation_reports == []
    frame.report_usage(
        "calls `something_old`, which is deprecated",
        breaks_in_ha_version="2099.1.0",
        integration_domain=DOMAIN,
    )
    [report] = deprecation_reports
    assert report.startswith(
        f"Detected that custom integration '{DOMAIN}' calls `something_old`, which is deprecated"
    )
