"""The messages caseapp sends on its own, each an HTML and a text template under templates/notifications/<name>/."""

VOUCHER_REMINDER = "voucher_reminder"
LATE_DELIVERY_APOLOGY = "late_delivery_apology"
DATE_CRITICAL_ESCALATION = "date_critical_escalation"
COD_CORRECTION_TASK = "cod_correction_task"
PROMISE_OVERDUE = "promise_overdue"
NOT_COLLECTED = "not_collected"
AGENT_REPLY = "agent_reply"
SPECIAL_DELIVERY = "special_delivery"
REMEDY_NOTICE = "remedy_notice"
CLAIM_DEADLINE = "claim_deadline"

TEMPLATES = {
    VOUCHER_REMINDER: "To the holder: the voucher expires soon, its balance, exact date and where to use it.",
    LATE_DELIVERY_APOLOGY: "To the customer: an apology for a late parcel, the new date and the discount.",
    DATE_CRITICAL_ESCALATION: "To the case owner and a manager: a date-critical order at risk, time left to act.",
    COD_CORRECTION_TASK: "To the task owner: have the courier correct the COD amount before delivery.",
    PROMISE_OVERDUE: "To the promise owner and a manager: a promise to a customer is overdue.",
    NOT_COLLECTED: "To the customer: a friendly note that the parcel was not collected, and how to get it.",
    AGENT_REPLY: "To the customer: an agent's reply from the dashboard, framed in the customer's language.",
    SPECIAL_DELIVERY: "To the customer: the shop sends a date-critical order by special delivery, its date and tracking.",
    REMEDY_NOTICE: "To the customer: a remedy applied on their case (new voucher expiry, credit voucher code and value, "
                   "replacement tracking number, refund amount and when to expect it).",
    CLAIM_DEADLINE: "To the case owner and a manager: a courier claim must be filed soon, by its deadline.",
}
