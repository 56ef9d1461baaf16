"""CloudWatch where moto 5.2.5 answers differently from AWS.

DescribeAlarmsForMetric: moto matches the namespace and metric name only;
AWS also matches the metric's dimensions (the same set of names and values)
and, when given, Statistic, ExtendedStatistic, Period and Unit. restoreplan
finds a table's alarms by its TableName dimension, so the difference matters.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply_patches() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def describe_alarms_for_metric(self: Any) -> Any:
        alarms = self.filter_alarms(self.cloudwatch_backend.describe_alarms(),
                                    self._get_param("MetricName"), self._get_param("Namespace"))
        wanted = {(d.get("Name"), d.get("Value")) for d in self._get_param("Dimensions", []) or []}
        alarms = [a for a in alarms if {(d.name, d.value) for d in a.dimensions} == wanted]
        for param, attribute in (("Statistic", "statistic"), ("ExtendedStatistic", "extended_statistic"),
                                 ("Unit", "unit")):
            value = self._get_param(param)
            if value is not None:
                alarms = [a for a in alarms if getattr(a, attribute, None) == value]
        period = self._get_param("Period")
        if period is not None:
            alarms = [a for a in alarms if str(a.period) == str(period)]
        return ActionResult({"MetricAlarms": alarms})

    CloudWatchResponse.describe_alarms_for_metric = describe_alarms_for_metric
