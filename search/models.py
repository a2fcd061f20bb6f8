from django.contrib.postgres.search import SearchVectorField
from django.db import models


class CaseDocument(models.Model):
    """The words of one case (subject, description, timeline, promises) as a text search document.

    Written only by PostgreSQL triggers (search/migrations/0001): every service, import and bulk load that
    changes a case, its timeline or its promises keeps it current. Empty on the embedded SQLite.
    """

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True,
                                related_name="search_document")
    language = models.CharField(max_length=2)
    document = SearchVectorField()

    def __str__(self):
        return f"search document of case #{self.case_id}"
