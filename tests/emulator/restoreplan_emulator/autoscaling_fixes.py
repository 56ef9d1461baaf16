"""Application Auto Scaling where moto 5.2.5 answers differently from AWS.

DescribeScalingPolicies: moto matches a policy when its resource id is a
substring of the asked one, so asking for `table/T/index/I` also lists the
policies of `table/T`; AWS matches the resource id exactly.

DeregisterScalableTarget: AWS deletes the target's scaling policies (and
the CloudWatch alarms target tracking made for them) with it, and answers
ObjectNotFoundException for a target that does not exist; moto keeps the
policies and answers ValidationException.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply_patches() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
    from moto.core.exceptions import JsonRESTError

    original_describe = ApplicationAutoscalingBackend.describe_scaling_policies

    def describe_scaling_policies(self: Any, service_namespace: str, resource_id: str, scalable_dimension: str,
                                  max_results: Any, next_token: str) -> Any:
        if not resource_id:
            return original_describe(self, service_namespace, resource_id, scalable_dimension, max_results,
                                     next_token)
        max_results = max_results or 100
        policies = [p for p in self.policies.values()
                    if p.service_namespace == service_namespace and p.resource_id == resource_id
                    and (not scalable_dimension or p.scalable_dimension == scalable_dimension)]
        start = int(next_token) if next_token else 0
        end = start + max_results
        return (str(end) if end < len(policies) else None), policies[start:end]

    def deregister_scalable_target(self: Any, namespace: str, r_id: str, dimension: str) -> None:
        if not self._scalable_target_exists(r_id, dimension):
            raise JsonRESTError(
                "ObjectNotFoundException",
                f"No scalable target registered for service namespace: {namespace}, resource ID: {r_id}, "
                f"scalable dimension: {dimension}")
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (namespace, r_id, dimension):
                policy.delete_alarms(self.account_id, self.region_name)
                del self.policies[key]
        del self.targets[dimension][r_id]

    ApplicationAutoscalingBackend.describe_scaling_policies = describe_scaling_policies
    ApplicationAutoscalingBackend.deregister_scalable_target = deregister_scalable_target
