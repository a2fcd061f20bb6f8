"""A case's survey as the API shows it (read-only: customers answer through the signed links, not the API)."""

from rest_framework import serializers

from surveys.models import Survey


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = ["due_at", "sent_at", "rating", "rated_at", "comment", "commented_at"]
        read_only_fields = fields
