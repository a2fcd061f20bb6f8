from django.urls import path

from .views import attachments, cases, claims, imports, managers, proposals, queue, reports, settings, staff

app_name = "dashboard"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("take-next/", queue.take_next, name="take_next"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/note/", cases.case_note, name="case_note"),
    path("cases/<int:pk>/reply/", cases.case_reply, name="case_reply"),
    path("cases/<int:pk>/promise/", cases.case_promise, name="case_promise"),
    path("cases/<int:pk>/promises/<int:promise_pk>/close/", cases.promise_close, name="promise_close"),
    path("cases/<int:pk>/remedies/<int:remedy_pk>/paid/", cases.remedy_payment, name="remedy_payment"),
    path("cases/<int:pk>/emails/<int:message_pk>/hold/", cases.message_hold, name="message_hold"),
    path("cases/<int:pk>/status/", cases.case_status, name="case_status"),
    path("cases/<int:pk>/reopen/", cases.case_reopen, name="case_reopen"),
    path("cases/<int:pk>/delivery-check/", cases.case_delivery_check, name="case_delivery_check"),
    path("cases/<int:pk>/special-delivery/", cases.case_special_delivery, name="case_special_delivery"),
    path("cases/<int:pk>/attachments/", attachments.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", attachments.attachment_download, name="attachment"),
    path("cases/<int:pk>/take/", cases.case_take, name="case_take"),
    path("cases/<int:pk>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<int:pk>/apply/", proposals.proposal_apply, name="proposal_apply"),
    path("cases/<int:pk>/override/", proposals.case_override, name="case_override"),
    path("approvals/", managers.approvals, name="approvals"),
    path("approvals/<int:remedy_pk>/decide/", managers.approval_decide, name="approval_decide"),
    path("claims/", claims.claims, name="claims"),
    path("claims/<int:claim_pk>/act/", claims.claim_act, name="claim_act"),
    path("policies/", managers.policy_versions, name="policies"),
    path("policies/compare/", managers.policy_compare, name="policy_compare"),
    path("policies/<int:version_pk>/", managers.policy_version_detail, name="policy"),
    path("policies/<int:version_pk>/activate/", managers.policy_version_activate, name="policy_activate"),
    path("policies/<int:version_pk>/replay/", managers.policy_version_replay, name="policy_replay"),
    path("reports/remedies/", reports.remedy_report, name="remedy_report"),
    path("reports/remedies/earned.csv", reports.remedy_report_earned_csv, name="remedy_report_earned_csv"),
    path("settings/", settings.staff_settings, name="staff_settings"),
    path("reports/remedies/<str:table>.csv", reports.remedy_report_csv, name="remedy_report_csv"),
    path("imports/orders/", imports.order_import, name="order_import"),
    path("staff/", staff.staff_list, name="staff"),
    path("staff/<int:user_pk>/unlock/", staff.staff_unlock, name="staff_unlock"),
]
