from rest_framework import serializers

from claims.models import Claim


class ClaimSerializer(serializers.ModelSerializer):
    courier = serializers.SlugRelatedField(slug_field="name", read_only=True)
    filed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    evidence = serializers.JSONField(read_only=True)

    class Meta:
        model = Claim
        fields = ["id", "case", "remedy", "courier", "amount", "currency", "status", "failed_at", "deadline",
                  "courier_reference", "recovered_amount", "note", "evidence", "created_at", "filed_at", "filed_by",
                  "decided_at", "paid_at", "closed_at", "deadline_alerted_at"]
        read_only_fields = fields
