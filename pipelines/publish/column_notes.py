"""Descriptions for snapshot columns the warehouse leaves uncommented.

The SQL models comment their own columns (``-- column`` headers); the decision log, the review
views and the rule-set tables are created by code and carry few comments. So that the
analysts' data dictionary describes every column, the publisher falls back on these texts,
exact names first, then name patterns. English only (the dictionary's 中文名 column carries
the Chinese terms); a comment written in the warehouse always wins.
"""

from __future__ import annotations

import re

DIMENSIONS = ("virtue", "ability", "diligence", "performance", "integrity")
DIMENSION_ZH = dict(zip(DIMENSIONS, ("德", "能", "勤", "绩", "廉"), strict=True))

EXACT: dict[str, str] = {
    "severity_level": "Severity of the fact as the unit graded it: 一般 (minor), 较重 (serious) "
                      "or 严重 (grave).",
    "responsibility": "Responsibility: 直接责任 (direct), 领导责任 (leadership) or 不适用 "
                      "(not applicable).",
    "category": "Category of the fact as the unit coded it (for personal-report checks: the "
                "check result 一致/漏报/瞒报).",
    "negative": "True when the fact counts against the cadre (before tolerance or dismissal).",
    "unit": "Unit code that sent the file (ORG, INS, AUD, PET, DIS).",
    "received_at": "When the file was received.",
    "post_valid_from": "Start of the post spell the fact was judged against.",
    "status": "Status of the row (see the table's description for its values).",
    "submission_id": "Submission (meta.submission) the row came from.",
    "source_row": "Row number in the submitted file, as the unit sees it.",
    "decision_id": "Sequence number of the decision in the decision log.",
    "flag_id": "Flag id (线索编号): rule id and a hash of cadre, rule and evidence; stable across "
               "rebuilds.",
    "action": "Decision taken: observe, confirm, clear, adjust, appeal, appeal_upheld, "
              "appeal_granted or restore.",
    "measure": "Organisational measure (调离岗位, 改任职级, 免职, 降职, or a sanction's measure).",
    "decided_on": "Date of the decision.",
    "decided_by": "Who decided (the body, e.g. 部务会), as recorded.",
    "reason": "Reason recorded with the decision (free text, scrubbed of IDs, possible "
              "birth dates and names).",
    "document_no": "Number of the document recording the decision (文号).",
    "adjust_document_no": "Document number of the adjustment decision.",
    "observe_until": "End of the observation period (考察期) set by the decision.",
    "remark": "Free-text remark (scrubbed of IDs, possible birth dates and names).",
    "recorded_at": "When the decision was recorded in the log.",
    "recorded_via": "How it was recorded: cli, drop (ORG decision file) or portal.",
    "rule_id": "Rule id (warehouse/rules/<id>_*.sql; ruleset.rule).",
    "rule_title_zh": "The rule's title in Chinese.",
    "title_zh": "Title in Chinese.",
    "severity": "candidate (不适宜担任现职人选) or warning (预警).",
    "opened_on": "Date the flag's condition arose.",
    "detail_zh": "What the rule found, in Chinese.",
    "evidence_ids": "Evidence rows (core.evidence.evidence_id) behind it.",
    "first_seen_at": "When a build first raised the flag.",
    "last_seen_at": "When a build last raised the flag.",
    "state": "Flag state: flagged, under_observation, confirmed, cleared, adjusted or appealed.",
    "state_zh": "Flag state in Chinese.",
    "last_action": "Most recent decision on the flag.",
    "last_decided_on": "Date of the most recent decision.",
    "last_decided_by": "Who took the most recent decision.",
    "decisions": "Number of decisions recorded on the flag.",
    "open": "True while the flag or step is not closed.",
    "event_zh": "The ledger event in Chinese.",
    "step_zh": "The step in Chinese.",
    "file_status_zh": "Follow-up file status in Chinese.",
    "year": "Calendar year of the event.",
    "half_year": "Half-year of the event, e.g. 2025H2.",
    "raised_candidates": "Flags raised as candidates in the half-year.",
    "raised_warnings": "Flags raised as warnings in the half-year.",
    "observed": "Flags put under observation in the half-year.",
    "confirmed": "Flags confirmed in the half-year.",
    "adjusted": "Cadres adjusted in the half-year.",
    "restored": "Cadres restored in the half-year.",
    "appeal_granted": "Appeals granted in the half-year.",
    "appeal_upheld": "Appeals rejected (decision upheld) in the half-year.",
    "reappoint_from": "Earliest date the cadre may be re-appointed.",
    "promotion_from": "Earliest date the cadre may be promoted.",
    "last_meets_bar": "Whether the latest re-check found the cadre meets the bar again.",
    "recheck_on": "Date of the re-check.",
    "below_threshold": "Dimensions whose score is below their threshold.",
    "score_overall": "Overall profile score after deductions (weighted mean of the five).",
    "published_at": "When this snapshot was published.",
    "as_of_dates": "As-of dates of the builds the snapshot holds.",
    "name_zh": "Name in Chinese.",
    "code": "The unit's code value being mapped.",
    "points": "Points deducted per fact at this severity.",
    "score": "Base score this grade maps to.",
    "weight": "Weight applied to the deduction.",
    "months": "Influence period in months.",
    "term_months": "Term of the measure in months, where it has one.",
    "no_leading_post_months": "Months during which no leading post may be held.",
    "end_date_required": "True when the unit must send the measure's end date (影响期截止): its "
                         "term varies (e.g. 留党察看), so none is assumed.",
    "persistent_warning": "True when the warning stays until a person clears it.",
    "basis": "Legal or policy basis (依据) of the rule or number.",
    "tags": "Verification tag of the basis: [V] verified, [S] secondary source, [R] recalled, "
            "[I] own design.",
    "file": "Rule file it was read from.",
    "version": "Declared version of the rule set.",
    "digest": "Content digest of the rule set files.",
    "label": "Version and digest as printed on reports.",
    "jurisdiction": "Jurisdiction the rule set is for.",
    "path": "File the rule set was read from.",
    "profile": "Jurisdiction profile applied, if any.",
    "profile_title": "Title of the jurisdiction profile.",
    "profile_path": "File of the jurisdiction profile.",
    "entry": "Entry of the profile that changes a number.",
    "parameter": "Rule parameter the profile changes.",
    "value": "The profile's value.",
    "default_value": "The rule set's default value.",
    "when_post_level": "Post level the profile entry applies to (empty: any).",
    "when_post_category": "Post category the profile entry applies to (empty: any).",
    "when_sector": "Sector the profile entry applies to (empty: any).",
    "profile_look_back_months": "Look-back window of the profile's deductions, in months.",
}

PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^(\w\d)_window_months$", "Look-back window of rule {0} in months."),
    (r"^(\w\d)_(.+)$", "Rule {0} parameter: {1}."),
    (r"^base_(virtue|ability|diligence|performance|integrity)$",
     "Base score of {0} before deductions: the assessment's score, its grade mapped, or the "
     "default without a graded assessment."),
    (r"^threshold_(\w+)$", "Profile threshold of {0} for the post class."),
    (r"^score_(\w+)$", "Profile score of {0} at the re-check, after deductions."),
    (r"^median_days_(\w+)$", "Median days taken by the {0} step."),
    (r"^(\w+)_on$", "Date the flag was {0}."),
)


def english(text: str | None) -> bool:
    return bool(text) and re.search(r"[A-Za-z]{3,}", text) is not None


def comment_for(column: str, text: str | None) -> str | None:
    """The warehouse's comment when it is English text, else this module's description."""
    return text if english(text) else (describe(column) or text)


def describe(column: str) -> str | None:
    """An English description of a column the warehouse left uncommented, or None."""
    if column in EXACT:
        return EXACT[column]
    if column in DIMENSIONS:
        return f"Weight of {DIMENSION_ZH[column]} ({column}) in the overall score."
    for pattern, text in PATTERNS:
        match = re.match(pattern, column)
        if match:
            parts = [p.replace("_", " ") for p in match.groups()]
            parts = [f"{DIMENSION_ZH[p]} ({p})" if p in DIMENSION_ZH else p for p in parts]
            return text.format(*parts)
    return None
