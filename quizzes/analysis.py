"""Item analysis of a quiz, with Moodle's definitions, and a cross-language check.

Why these numbers: a teacher needs to know which questions are too easy or too hard
(facility), which ones fail to separate learners who know the module from those who do not
(discrimination index and discriminative efficiency), which wrong answers nobody picks
(distractor analysis), and whether the whole test is consistent enough to trust (Cronbach's
alpha and the standard error of measurement). Where the same question exists in several
languages, a large gap in facility between languages usually means the translation (of the
question or of the module it checks) changed the meaning.

The definitions follow Moodle's "Quiz statistics calculations" (developer documentation,
https://docs.moodle.org/dev/Quiz_statistics_calculations) and its implementation in
``question/classes/statistics/questions/calculator.php`` and
``mod/quiz/report/statistics/classes/calculator.php``:

* only graded attempts count, and only each learner's first one (Moodle's default: later
  attempts do not satisfy the assumptions of item analysis);
* every sum comes from counts kept as attempts are graded (``quizzes.statistics``): the
  counted answers grouped per question version, place, fraction, mark, rest-of-test mark
  and choice response, and the distribution of test totals (marks take few distinct
  values, so these are a few rows each). The sorted pairing of the discriminative
  efficiency and the median are exact merges of those distributions, so the number of
  statements is fixed whatever the number of attempts, and no answer row is read.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, Integer, Text, case, func, literal, select, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql.expression import ColumnElement

from curriculum import api as curriculum
from lms.config import LANGUAGES
from lms.errors import Invalid
from lms.extensions import db
from quizzes.models import (
    GRADED,
    Answer,
    Attempt,
    ItemStatistics,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
    TotalStatistics,
)
from quizzes.statistics import CHOICE_TYPES, counted_answer

#: Default gap in facility points between two languages that flags a translation.
DEFAULT_FACILITY_GAP = 20.0


# --- Results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceCount:
    """How many first attempts chose one answer of a choice question."""

    letter: str
    text: str
    #: the credit this answer gives (1 for the key, 0 or negative for distractors)
    fraction: float
    count: int
    #: share of the question's attempts, in percent
    percent: float


@dataclass(frozen=True)
class ItemStats:
    """Statistics of one question version across the quiz's first graded attempts.

    Percentages as Moodle shows them: ``facility`` is the mean fraction × 100, ``sd`` the
    (sample) standard deviation of the fraction × 100, ``discrimination`` the correlation
    with the rest of the test × 100, ``efficiency`` that covariance as a percentage of its
    maximum. A value is None where it is undefined (one attempt, no variance).
    """

    version_id: int
    question_id: int
    position: int
    name: str
    qtype: str
    text: str
    module_slug: str
    language: str
    translation_group: int
    attempts: int
    facility: float | None
    sd: float | None
    discrimination: float | None
    efficiency: float | None
    choices: list[ChoiceCount] = field(default_factory=list)
    #: attempts that left a choice question unanswered
    unanswered: int = 0


@dataclass(frozen=True)
class QuizStats:
    """Whole-test statistics over the first graded attempts, in marks.

    ``alpha`` is Cronbach's alpha (Moodle's "coefficient of internal consistency" / 100);
    ``sem`` the standard error of measurement, SD × √(1 − alpha).
    """

    attempts: int
    mean: float | None = None
    median: float | None = None
    sd: float | None = None
    skewness: float | None = None
    kurtosis: float | None = None
    alpha: float | None = None
    sem: float | None = None
    #: the mean of the attempts' maximum scores (what ``mean`` is out of)
    max_total: float | None = None
    #: the mean score as a percentage of each attempt's maximum
    mean_percent: float | None = None


@dataclass(frozen=True)
class Analysis:
    quiz: QuizStats
    items: list[ItemStats]


@dataclass(frozen=True)
class LanguageFacility:
    language: str
    question_id: int
    name: str
    attempts: int
    facility: float


@dataclass(frozen=True)
class TranslationGap:
    """Two translations of one question whose facilities differ by more than the threshold."""

    manual_slug: str
    module_slug: str
    group: int
    strong: LanguageFacility
    weak: LanguageFacility

    @property
    def gap(self) -> float:
        return self.strong.facility - self.weak.facility


# --- Shared SQL pieces ------------------------------------------------------------------


def _first_attempts(*conditions: ColumnElement[bool]) -> Any:
    """Each learner's first graded attempt per quiz (Moodle's default for statistics).

    A window over the graded attempts (one sort), not a subquery per attempt.
    """
    ranked = (
        select(
            Attempt.id.label("attempt_id"),
            func.row_number()
            .over(partition_by=(Attempt.quiz_id, Attempt.user_id), order_by=Attempt.number)
            .label("rank"),
        )
        .where(Attempt.status == GRADED, *conditions)
        .subquery("ranked_attempts")
    )
    return select(ranked.c.attempt_id).where(ranked.c.rank == 1).cte("first_attempts")


def _sample_variance(n: int, total: float, squares: float) -> float | None:
    """Σ(x − x̄)² / (n − 1) from the raw sums; None below two observations."""
    if n < 2:
        return None
    return max(squares - total * total / n, 0.0) / (n - 1)


# --- Item analysis ----------------------------------------------------------------------


def analyse(quiz: Quiz) -> Analysis:
    """Item and test statistics of ``quiz``; a fixed number of statements (see module)."""
    parts = _aggregates(quiz)
    quiz_stats = _test_statistics(parts)
    if not parts.versions:
        return Analysis(quiz=quiz_stats, items=[])
    version_ids = list(parts.versions)
    versions = {
        version.id: (version, question)
        for version, question in db.session.execute(
            select(QuestionVersion, Question)
            .join(Question, Question.id == QuestionVersion.question_id)
            .where(QuestionVersion.id.in_(version_ids))
        )
    }
    frequencies = parts.responses
    items = []
    for version_id, sums in parts.versions.items():
        version, question = versions[version_id]
        choices, unanswered = _distractors(version, frequencies.get(version_id, []), sums.n)
        items.append(
            ItemStats(
                version_id=version.id,
                question_id=question.id,
                position=sums.position,
                name=question.name or _shorten(version.text),
                qtype=version.qtype,
                text=version.text,
                module_slug=question.module_slug,
                language=question.language,
                translation_group=question.translation_group or question.id,
                attempts=sums.n,
                choices=choices,
                unanswered=unanswered,
                **_item_measures(sums),
            )
        )
    items.sort(key=lambda item: (item.position, item.version_id))
    return Analysis(quiz=quiz_stats, items=items)


@dataclass
class _VersionSums:
    """The raw sums of one question version (see ``_item_measures``)."""

    n: int
    position: int
    sf: float
    sff: float
    sx: float
    sxx: float
    sr: float
    srr: float
    sxr: float
    #: How many answers had each item mark x, and each rest-of-test mark r.
    marks: dict[float, int] = field(default_factory=dict)
    rests: dict[float, int] = field(default_factory=dict)

    def add_mark(self, x: float, count: int) -> None:
        self.marks[x] = self.marks.get(x, 0) + count

    def add_rest(self, r: float, count: int) -> None:
        self.rests[r] = self.rests.get(r, 0) + count

    @property
    def sorted_xr(self) -> float:
        """Σ x₍ₖ₎·r₍ₖ₎: the k-th smallest item mark times the k-th smallest rest mark
        (Moodle's ``covariancemaxsum``), merged from the two distributions run by run."""
        marks, rests = sorted(self.marks.items()), sorted(self.rests.items())
        total, i, j = 0.0, 0, 0
        left_x = marks[0][1] if marks else 0
        left_r = rests[0][1] if rests else 0
        while i < len(marks) and j < len(rests):
            step = min(left_x, left_r)
            total += marks[i][0] * rests[j][0] * step
            left_x, left_r = left_x - step, left_r - step
            if left_x == 0:
                i += 1
                left_x = marks[i][1] if i < len(marks) else 0
            if left_r == 0:
                j += 1
                left_r = rests[j][1] if j < len(rests) else 0
        return total


@dataclass
class _Aggregates:
    """Everything the statistics need, summed by the database."""

    versions: dict[int, _VersionSums] = field(default_factory=dict)
    #: Per item (slot): (n, Σx, Σx²) for Cronbach's alpha.
    items: list[tuple[int, float, float]] = field(default_factory=list)
    #: The distribution of test totals: (total, maximum, how many attempts).
    totals: list[tuple[float, float | None, int]] = field(default_factory=list)
    #: How often each response was given, per choice question version.
    responses: dict[int, list[tuple[Any, int]]] = field(default_factory=dict)


def _aggregates(quiz: Quiz) -> _Aggregates:
    """Every sum and distribution the statistics need, from one statement over the kept
    counts (``quizzes.statistics``).

    The counted answers are kept grouped by (version, place, fraction, mark, rest-of-test
    mark, and the response of a choice question): marks take few distinct values, so a
    million answers make a few thousand groups, from which every sum, both distributions
    of a version and the response counts follow exactly. The "item" of Cronbach's alpha is
    Moodle's slot: without shuffling, a place in the attempt is a slot (a random one
    included); shuffled, the question is. The distribution of test totals comes from the
    kept totals, in the same statement (UNION ALL); ``kind`` tells the two apart.
    """
    kept, totals = ItemStatistics, TotalStatistics
    item = kept.question_id if quiz.shuffle_questions else kept.position
    choice = case((kept.choice, 1), else_=0)
    joint = (
        select(
            literal("answers").label("kind"),
            kept.question_version_id.label("v"),
            item.label("item"),
            choice.label("choice"),
            kept.fraction.label("f"),
            kept.mark.label("x"),
            kept.rest.label("r"),
            kept.response.label("txt"),
            func.min(kept.position).label("position"),
            func.sum(kept.answers).label("n"),
        )
        .where(kept.quiz_id == quiz.id)
        .group_by(
            kept.question_version_id,
            item,
            choice,
            kept.fraction,
            kept.mark,
            kept.rest,
            kept.response,
        )
    )
    none_int = sql_cast(literal(None), Integer())
    distribution = select(
        literal("totals").label("kind"),
        none_int,
        none_int,
        none_int,
        sql_cast(literal(None), Float()),
        sql_cast(totals.score, Float()),
        sql_cast(totals.max_score, Float()),
        sql_cast(literal(None), Text()),
        none_int,
        totals.attempts,
    ).where(totals.quiz_id == quiz.id)
    found = _Aggregates()
    items: dict[Any, list[float]] = {}
    for row in db.session.execute(union_all(joint, distribution)):
        n = int(row.n)
        if row.kind == "totals":
            maximum = None if row.r is None else float(row.r)
            found.totals.append((float(row.x), maximum, n))
            continue
        f, x, r = float(row.f), float(row.x), float(row.r)
        sums = found.versions.get(row.v)
        if sums is None:
            sums = found.versions[row.v] = _VersionSums(
                n=0, position=int(row.position), sf=0, sff=0, sx=0, sxx=0, sr=0, srr=0, sxr=0
            )
        sums.n += n
        sums.position = min(sums.position, int(row.position))
        sums.sf += f * n
        sums.sff += f * f * n
        sums.sx += x * n
        sums.sxx += x * x * n
        sums.sr += r * n
        sums.srr += r * r * n
        sums.sxr += x * r * n
        sums.add_mark(x, n)
        sums.add_rest(r, n)
        item = items.setdefault(row.item, [0, 0.0, 0.0])
        item[0] += n
        item[1] += x * n
        item[2] += x * x * n
        if row.choice:
            try:
                value = json.loads(row.txt) if row.txt else None
            except ValueError:
                value = row.txt
            found.responses.setdefault(row.v, []).append((value, n))
    found.items = [(int(n), sx, sxx) for n, sx, sxx in items.values()]
    found.versions = dict(sorted(found.versions.items(), key=lambda kv: (kv[1].position, kv[0])))
    return found


def _item_measures(row: Any) -> dict[str, float | None]:
    """Facility, SD, discrimination index and discriminative efficiency from the sums.

    With n attempts, item marks x and rest-of-test marks r = total − x (Moodle):

    * facility = mean fraction × 100;
    * sd = √(Σ(f − f̄)² / (n − 1)) × 100 (sample SD of the fraction);
    * discrimination index = 100 · cov(x, r) / √(var(x) · var(r)), the Pearson
      correlation of the item with the rest of the test (not with the total, which the item
      itself would inflate);
    * discriminative efficiency = 100 · cov(x, r) / cov_max(x, r), where cov_max pairs the
      sorted x with the sorted r: the highest covariance possible for these marks, so the
      index is judged against what the item's facility allows.
    """
    n = int(row.n)
    sf, sff = float(row.sf), float(row.sff)
    sx, sxx, sr, srr = float(row.sx), float(row.sxx), float(row.sr), float(row.srr)
    sxr, sorted_xr = float(row.sxr), float(row.sorted_xr)
    facility = 100 * sf / n
    fraction_var = _sample_variance(n, sf, sff)
    mark_var = _sample_variance(n, sx, sxx)
    rest_var = _sample_variance(n, sr, srr)
    discrimination = efficiency = None
    if n > 1 and mark_var is not None and rest_var is not None:
        covariance = (sxr - sx * sr / n) / (n - 1)
        covariance_max = (sorted_xr - sx * sr / n) / (n - 1)
        if mark_var * rest_var > 1e-12:
            discrimination = 100 * covariance / math.sqrt(mark_var * rest_var)
        if abs(covariance_max) > 1e-12:
            efficiency = 100 * covariance / covariance_max
    return {
        "facility": facility,
        "sd": None if fraction_var is None else 100 * math.sqrt(fraction_var),
        "discrimination": discrimination,
        "efficiency": efficiency,
    }


def _test_statistics(parts: _Aggregates) -> QuizStats:
    """Mean, median, SD, skewness, kurtosis, Cronbach's alpha and SEM of the totals.

    From the distribution of test totals (a few distinct values with their counts) and the
    variance of each item. Alpha (Moodle's CIC / 100) is p/(p − 1) · (1 − Σ var(item) /
    var(total)) with p items, as Moodle computes it per slot; SEM = SD · √(1 − alpha)
    (Moodle's "standard error"). Skewness and kurtosis are Moodle's (sample cumulants
    k3/k2^1.5 and k4/k2²).
    """
    s = sum(count for _total, _max, count in parts.totals)
    if s == 0:
        return QuizStats(attempts=0)
    mean = sum(total * count for total, _max, count in parts.totals) / s
    m2 = sum(count * (total - mean) ** 2 for total, _max, count in parts.totals)
    m3 = sum(count * (total - mean) ** 3 for total, _max, count in parts.totals)
    m4 = sum(count * (total - mean) ** 4 for total, _max, count in parts.totals)
    known = [(t, m, c) for t, m, c in parts.totals if m is not None]
    positive = [(t, m, c) for t, m, c in known if m > 0]
    known_count = sum(c for _t, _m, c in known)
    positive_count = sum(c for _t, _m, c in positive)
    values: dict[str, float | None] = {
        "mean": mean,
        "median": _median([(total, count) for total, _max, count in parts.totals], s),
        "max_total": sum(m * c for _t, m, c in known) / known_count if known_count else None,
        "mean_percent": (
            sum(100 * t / m * c for t, m, c in positive) / positive_count
            if positive_count
            else None
        ),
    }
    p = len(parts.items)
    sum_of_variances = sum(_sample_variance(n, sx, sxx) or 0.0 for n, sx, sxx in parts.items)
    if s > 1:
        m2, m3, m4 = m2 / s, m3 / s, m4 / s
        k2 = s * m2 / (s - 1)
        values["sd"] = math.sqrt(k2)
        if k2 > 1e-12:
            if s > 2:
                k3 = s * s * m3 / ((s - 1) * (s - 2))
                values["skewness"] = k3 / k2**1.5
            if s > 3:
                k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
                values["kurtosis"] = k4 / (k2 * k2)
            if p > 1:
                alpha = p / (p - 1) * (1 - sum_of_variances / k2)
                values["alpha"] = alpha
                values["sem"] = math.sqrt(k2) * math.sqrt(max(1 - alpha, 0.0))
    return QuizStats(attempts=s, **values)


def _median(distribution: list[tuple[float, int]], n: int) -> float:
    """The median of n values given as (value, count): the middle one, or the mean of the
    two middle ones."""
    wanted = [(n + 1) // 2, (n + 2) // 2]  # 1-based ranks; the same one when n is odd
    found: list[float] = []
    seen = 0
    for value, count in sorted(distribution):
        seen += count
        while wanted and wanted[0] <= seen:
            found.append(value)
            wanted.pop(0)
    return sum(found) / len(found)


# --- Distractor analysis ----------------------------------------------------------------


def letter(index: int) -> str:
    """A, B, … Z, then AA, AB …: how answers are named on paper and in the analysis."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _plain_text(text: str) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", html.unescape(text or "")).split())


def choice_options(version: QuestionVersion) -> list[tuple[str, str, float]]:
    """(letter, text, fraction) of a choice question's answers in the author's order."""
    data = version.data or {}
    if version.qtype == "truefalse":
        right = bool(data.get("correct"))
        return [
            (letter(0), _("True"), 1.0 if right else 0.0),
            (letter(1), _("False"), 0.0 if right else 1.0),
        ]
    answers = [a for a in data.get("answers") or [] if isinstance(a, dict)]
    options = []
    for index, answer in enumerate(answers):
        fraction = answer.get("fraction", 0)
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            fraction = 0.0
        options.append((letter(index), _plain_text(str(answer.get("text") or "")), float(fraction)))
    return options


def chosen_indexes(version: QuestionVersion, response: Any) -> list[int]:
    """The answers (author's order) a stored response chose: multichoice stores a list of
    indexes, true/false a bool (True is the first option)."""
    if version.qtype == "truefalse":
        return [0 if response else 1] if isinstance(response, bool) else []
    raw = response if isinstance(response, list) else [response]
    return sorted({i for i in raw if isinstance(i, int) and not isinstance(i, bool)})


def _distractors(
    version: QuestionVersion, counts: list[tuple[Any, int]], attempts: int
) -> tuple[list[ChoiceCount], int]:
    """How often each answer of a choice question was chosen, and how often none was."""
    if version.qtype not in CHOICE_TYPES:
        return [], 0
    options = choice_options(version)
    tally = [0] * len(options)
    unanswered = 0
    for response, count in counts:
        picked = [i for i in chosen_indexes(version, response) if 0 <= i < len(tally)]
        if not picked:
            unanswered += count
        for index in picked:
            tally[index] += count
    return [
        ChoiceCount(
            letter=name,
            text=text,
            fraction=fraction,
            count=tally[i],
            percent=100 * tally[i] / attempts if attempts else 0.0,
        )
        for i, (name, text, fraction) in enumerate(options)
    ], unanswered


def _shorten(text: str, limit: int = 60) -> str:
    plain = " ".join(text.split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


# --- Cross-language check ---------------------------------------------------------------


def facility_gap() -> float:
    """The threshold in facility points (config ``QUIZZES_FACILITY_GAP``, default 20)."""
    try:
        return float(current_app.config.get("QUIZZES_FACILITY_GAP", DEFAULT_FACILITY_GAP))
    except (TypeError, ValueError):
        return DEFAULT_FACILITY_GAP


def translation_gaps(analysis: Analysis, *, threshold: float | None = None) -> list[TranslationGap]:
    """Pairs of languages whose facility on the same question differs by more than the
    threshold, over every quiz of the question's manual (first graded attempts).

    One statement: answers grouped by translation group, language and question, limited to
    the translation groups of the analysed quiz's questions.
    """
    groups = sorted({item.translation_group for item in analysis.items})
    if not groups:
        return []
    limit = facility_gap() if threshold is None else threshold
    first = _first_attempts()
    group_key = func.coalesce(Question.translation_group, Question.id)
    rows = db.session.execute(
        select(
            group_key.label("group"),
            QuestionBank.manual_slug,
            Question.language,
            Question.id,
            Question.name,
            Question.module_slug,
            func.count().label("n"),
            func.sum(Answer.fraction).label("sf"),
        )
        .select_from(Answer)
        .join(first, first.c.attempt_id == Answer.attempt_id)
        .join(QuestionVersion, QuestionVersion.id == Answer.question_version_id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .join(QuestionBank, QuestionBank.id == Question.bank_id)
        .where(group_key.in_(groups), counted_answer())
        .group_by(
            group_key,
            QuestionBank.manual_slug,
            Question.language,
            Question.id,
            Question.name,
            Question.module_slug,
        )
        .order_by(group_key, Question.language, Question.id)
    ).all()
    # A few rows per question (not per answer): merge the questions of one language.
    merged: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for row in rows:
        languages = merged.setdefault((row.group, row.manual_slug), {})
        entry = languages.setdefault(
            row.language,
            {"question_id": row.id, "name": row.name, "module": row.module_slug, "n": 0, "sf": 0.0},
        )
        entry["n"] += int(row.n)
        entry["sf"] += float(row.sf)
    gaps = []
    for (group, manual_slug), languages in merged.items():
        facilities = {
            language: LanguageFacility(
                language=language,
                question_id=entry["question_id"],
                name=entry["name"],
                attempts=entry["n"],
                facility=100 * entry["sf"] / entry["n"],
            )
            for language, entry in languages.items()
        }
        for a, b in combinations(sorted(facilities), 2):
            strong, weak = facilities[a], facilities[b]
            if weak.facility > strong.facility:
                strong, weak = weak, strong
            if strong.facility - weak.facility > limit:
                gaps.append(
                    TranslationGap(
                        manual_slug=manual_slug,
                        module_slug=languages[weak.language]["module"]
                        or languages[strong.language]["module"],
                        group=group,
                        strong=strong,
                        weak=weak,
                    )
                )
    gaps.sort(key=lambda gap: (-gap.gap, gap.group, gap.weak.language))
    return gaps


def feedback_text(gap: TranslationGap, quiz: Quiz) -> str:
    """The message sent to the curriculum team (in the sender's language)."""

    def name(language: str) -> str:
        return LANGUAGES.get(language, language)

    return _(
        "Item analysis of the quizzes of this manual: the question “%(question)s” has a "
        "facility of %(weak)s%% in %(weak_language)s (%(weak_n)s answers) but %(strong)s%% "
        "in %(strong_language)s (%(strong_n)s answers), a gap of %(gap)s points. Please check "
        "the %(weak_language)s translation of the question and of the module text it relies "
        "on. Noticed in the quiz “%(quiz)s”.",
        question=gap.weak.name or gap.strong.name,
        weak=f"{gap.weak.facility:.0f}",
        weak_language=name(gap.weak.language),
        weak_n=gap.weak.attempts,
        strong=f"{gap.strong.facility:.0f}",
        strong_language=name(gap.strong.language),
        strong_n=gap.strong.attempts,
        gap=f"{gap.gap:.0f}",
        quiz=quiz.title,
    )


def send_gap_feedback(
    quiz: Quiz, *, group: int, weak_language: str, strong_language: str, actor_id: int | None
) -> int:
    """Send a flagged gap as classroom feedback on the module, in the weaker language's
    latest edition; returns the feedback number (not committed).

    The gap is recomputed rather than taken from the form, so only a real flag can be sent.
    """
    gap = next(
        (
            found
            for found in translation_gaps(analyse(quiz))
            if found.group == group
            and found.weak.language == weak_language
            and found.strong.language == strong_language
        ),
        None,
    )
    if gap is None:
        raise Invalid(_l("This difference between languages is no longer flagged."))
    if not gap.module_slug:
        raise Invalid(_l("The question does not say which module it checks."))
    # No cohort has id 0, so this is the latest edition in the language (else English).
    edition = curriculum.cohort_edition(0, gap.manual_slug, gap.weak.language)
    if edition is None or edition.language != gap.weak.language:
        raise Invalid(_l("The manual has no published edition in this language."))
    version_id = next(
        (
            module.version_id
            for module in curriculum.edition_modules(edition.id)
            if module.module_slug == gap.module_slug
        ),
        None,
    )
    if version_id is None:
        raise Invalid(_l("The latest edition in this language does not have the module."))
    return curriculum.give_feedback(
        version_id, author_id=actor_id, source="classroom", body=feedback_text(gap, quiz)
    )


__all__ = [
    "Analysis",
    "ChoiceCount",
    "ItemStats",
    "LanguageFacility",
    "QuizStats",
    "TranslationGap",
    "analyse",
    "choice_options",
    "chosen_indexes",
    "facility_gap",
    "feedback_text",
    "letter",
    "send_gap_feedback",
    "translation_gaps",
]
