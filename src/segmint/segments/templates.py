"""Built-in segment templates: the segments marketers start from.

Each template is an ordinary rule in the text form over computed traits (DESIGN section 5);
``segmint templates add`` saves it as a segment file the user can edit like any other.
The RFM templates follow the groups of ``rfm_segment``; the lifecycle templates the stages
of ``lifecycle_stage``; docs/traits.md says how each trait is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from segmint.errors import ModelError, NotFoundError

if TYPE_CHECKING:
    from datetime import datetime

    from segmint.segments.query import Evaluator
    from segmint.segments.registry import SegmentDefinition


@dataclass(frozen=True)
class Template:
    """A built-in segment: slug, title, rule text, the campaign it is for, and why."""

    name: str
    title: str
    rule: str
    campaign: str
    description: str

    def definition(self) -> SegmentDefinition:
        """The template as a segment definition, ready to save."""
        from segmint.segments.registry import definition_from

        return definition_from(
            {
                "name": self.name,
                "title": self.title,
                "description": self.description,
                "campaign": self.campaign,
                "rule": self.rule,
            },
            f"template {self.name}",
        )


def _rfm(name: str, title: str, group: str, campaign: str, description: str) -> Template:
    return Template(name, title, f'rfm_segment = "{group}"', campaign, description)


def _stage(stage: str, campaign: str, description: str) -> Template:
    title = "Lifecycle: " + stage.replace("_", " ")
    name = "lifecycle-" + stage.replace("_", "-")
    return Template(name, title, f'lifecycle_stage = "{stage}"', campaign, description)


TEMPLATES: tuple[Template, ...] = (
    _rfm(
        "champions",
        "Champions",
        "Champions",
        "rewards, early access and referral asks; no discounts needed",
        "Bought recently, often and for the most (RFM).",
    ),
    _rfm(
        "loyal",
        "Loyal",
        "Loyal",
        "upsell higher-value products; invite to the loyalty programme",
        "Buy regularly and spend well, not quite the most recent (RFM).",
    ),
    _rfm(
        "potential-loyalist",
        "Potential Loyalist",
        "Potential Loyalist",
        "membership or subscription offer; personal recommendations",
        "Recent buyers with a few orders who could become loyal (RFM).",
    ),
    _rfm(
        "new",
        "New",
        "New",
        "onboarding series and a second-order incentive",
        "Bought very recently for the first time or so (RFM).",
    ),
    _rfm(
        "promising",
        "Promising",
        "Promising",
        "brand story and best sellers; a small second-order offer",
        "Bought recently but only once or for little (RFM).",
    ),
    _rfm(
        "need-attention",
        "Need Attention",
        "Need Attention",
        "limited-time offer on what they bought before",
        "Middling recency, frequency and money: slipping from the regulars (RFM).",
    ),
    _rfm(
        "about-to-sleep",
        "About to Sleep",
        "About to Sleep",
        "popular products and a reminder before they drift away",
        "Below-average recency and few orders: nearly gone (RFM).",
    ),
    _rfm(
        "at-risk",
        "At Risk / Risk of Churn",
        "At Risk",
        "personal win-back emails, reminders of what they liked",
        "Used to buy often and well, but not for a while (RFM).",
    ),
    _rfm(
        "cant-lose",
        "Can't Lose Them",
        "Can't Lose",
        "win them back at almost any cost: best offers, a personal call",
        "Among the biggest spenders, silent for a long time (RFM).",
    ),
    _rfm(
        "hibernating",
        "Hibernating",
        "Hibernating",
        "low-cost reactivation with relevant products",
        "Few, small, old orders; by cadence recency also bigger buyers now churned (RFM).",
    ),
    _rfm(
        "churned",
        "Churned / Lost",
        "Lost",
        "one last win-back, then suppress from paid media",
        "Lowest recency, frequency and money (RFM).",
    ),
    Template(
        "reactivation",
        "Reactivation",
        "orders_trend_60d <= -0.5",
        "re-engagement nudge before the habit is gone",
        "Purchase frequency down by half or more: orders in the last 60 days vs the 60 before.",
    ),
    Template(
        "vip",
        "VIP by predicted CLV",
        'value_tier = "vip"',
        "VIP service; seed audience for value-based lookalikes",
        "Top customers by predicted 365-day value (BG/NBD and Gamma-Gamma).",
    ),
    Template(
        "high-churn-risk",
        "High churn risk",
        'churn_risk = "high"',
        "retention offer while they can still be reached",
        "Buyers the model thinks are probably gone, or silent past the lapsed threshold.",
    ),
    Template(
        "email-engaged",
        "Email-engaged",
        "email_open_rate_90d >= 0.3",
        "newsletter and launches first; ask for reviews",
        "Opened at least 30 % of the emails sent to them in the last 90 days.",
    ),
    Template(
        "email-dormant",
        "Email-dormant",
        "email_open_rate_90d = 0",
        "re-permission campaign, then stop sending to protect deliverability",
        "Were sent email in the last 90 days and opened none.",
    ),
    _stage(
        "subscriber",
        "welcome series with a first-purchase incentive",
        "Known customers without an order yet.",
    ),
    _stage(
        "first_time_buyer",
        "post-purchase series: care tips, cross-sell, second-order nudge",
        "One order, recently enough not to be at risk.",
    ),
    _stage(
        "repeat_buyer",
        "replenishment reminders; loyalty programme invite",
        "Two or more orders, short of loyal, buying on their cadence.",
    ),
    _stage(
        "loyal",
        "loyalty rewards and advocacy (reviews, referrals)",
        "Many orders (the shop's top buyers by count) and still buying.",
    ),
    _stage(
        "at_risk",
        "reminder timed to their usual cadence",
        "Silent longer than most gaps between a shop's orders.",
    ),
    _stage(
        "lapsed",
        "win-back offer",
        "Silent longer than 90 % of the gaps between a shop's orders.",
    ),
    _stage(
        "churned",
        "last-chance win-back, then suppress",
        "Silent far beyond the shop's purchase cadence.",
    ),
)

BY_NAME: dict[str, Template] = {t.name: t for t in TEMPLATES}


def get_template(name: str) -> Template:
    """The template called ``name``; unknown names get a suggestion."""
    found = BY_NAME.get(name)
    if found is None:
        from segmint.hints import suggest

        raise NotFoundError(
            f"no template {name!r}{suggest(name, BY_NAME)}; `segmint templates` lists them"
        )
    return found


@dataclass(frozen=True)
class TemplateSize:
    """How many customers a template holds at one as_of; ``size`` is None, with the reason,
    when it cannot be counted (the VIP template on a shop too small for the CLV models)."""

    template: Template
    size: int | None
    reason: str | None = None


def count_templates(evaluator: Evaluator, as_of: datetime) -> list[TemplateSize]:
    """Every template's size at ``as_of``. One that cannot be counted for want of data does
    not stop the others: it gets its reason instead of a size."""
    sizes = []
    for template in TEMPLATES:
        try:
            sizes.append(TemplateSize(template, evaluator.count(template.rule, as_of)))
        except ModelError as exc:
            sizes.append(TemplateSize(template, None, str(exc)))
    return sizes
