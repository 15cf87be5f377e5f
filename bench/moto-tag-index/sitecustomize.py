# Loaded by the benchmark's moto server only (PYTHONPATH is set by bench/plan.ts).
#
# moto looks up one resource's EC2 tags by scanning every tag in the account
# (TaggedEC2Resource.get_tags -> describe_tags(resource-id=...)), so a tag-filtered
# Describe over N resources costs O(N x all tags): hours for a 6,000-instance fleet.
# This reads the resource's own entry of the same tag store instead. Same data, same
# answers; only the emulator's speed changes, never what or how much tenantform asks.
try:
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def _get_tags(self):
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
            for key, value in self.ec2_backend.tags.get(resource_id, {}).items()
        ]

    TaggedEC2Resource.get_tags = _get_tags
except Exception:  # an unexpected moto layout: run unpatched, only slower
    pass
