"""Admin for runs, events and handoffs (state changes go through services)."""

import json
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from config.parsers import as_id
from designer.models import WorkflowVersion
from runs.errors import RunError
from runs.handoffs import MAX_NOTE, handoff_review
from runs.models import (
    HANDOFF_ACTIVE,
    AssigneeKind,
    Attempt,
    Event,
    Handoff,
    HandoffState,
    HandoffVerdict,
    LedgerEntry,
    Run,
    StepRun,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show rows without letting the admin write state behind the machine's back."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The event log is append-only; runs and their rows go with it.
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "workflow", "version", "state", "created_at", "finished_at"]
    list_filter = ["state", "workflow"]
    list_select_related = ["workflow", "version"]


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "node_id", "seq", "state", "finished_at"]
    list_filter = ["state", "node_type"]


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "step", "number", "state", "queue", "started_at"]
    list_filter = ["state", "queue"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "run", "node_id", "from_state", "to_state", "actor"]
    list_filter = ["kind"]
    search_fields = ["kind", "node_id", "actor"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["key", "run", "node_id", "created_at"]


# ------------------------------------------------------------------ handoffs

# The detail page shows at most this much of a context snapshot and this many events.
MAX_CONTEXT_CHARS = 100_000
MAX_EVENTS = 500


class HandoffCommentForm(forms.Form):
    """A reviewer's comment (a bulk review asks for it on a page of its own)."""

    comment = forms.CharField(
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )


class HandoffReviewForm(HandoffCommentForm):
    """One handoff's verdict (the button pressed) and comment."""

    verdict = forms.ChoiceField(
        choices=[
            (HandoffVerdict.CORRECT, "correct"),
            (HandoffVerdict.INCORRECT, "incorrect"),
        ]
    )


class AssigneeGroupFilter(admin.SimpleListFilter):
    """Handoffs for one group, from the group names handoffs were given to."""

    title = "assignee group"
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = (
            Handoff.objects.filter(assignee_kind=AssigneeKind.GROUP)
            .order_by("assignee")
            .values_list("assignee", flat=True)
            .distinct()
        )
        return [(name, name) for name in names]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Handoff]
    ) -> QuerySet[Handoff]:
        if self.value() is None:
            return queryset
        return queryset.filter(assignee_kind=AssigneeKind.GROUP, assignee=self.value())


class VersionFilter(admin.SimpleListFilter):
    """Handoffs of one workflow version (of the chosen workflow, when one is)."""

    title = "version"
    parameter_name = "version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        versions = (
            WorkflowVersion.objects.filter(pk__in=Handoff.objects.values("version_id"))
            .select_related("workflow")
            .order_by("workflow__slug", "-number")
        )
        workflow = request.GET.get("workflow__id__exact", "")
        if as_id(workflow) is not None:
            versions = versions.filter(workflow_id=as_id(workflow))
        return [(str(v.pk), f"{v.workflow.slug} v{v.number}") for v in versions]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Handoff]
    ) -> QuerySet[Handoff]:
        value = self.value()
        if value is None:
            return queryset
        if as_id(value) is None:
            return queryset.none()
        return queryset.filter(version_id=as_id(value))


def _overdue() -> Q:
    return Q(state__in=HANDOFF_ACTIVE, due_at__lte=timezone.now())


class OverdueFilter(admin.SimpleListFilter):
    """Active handoffs past their due time, or the rest."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Handoff]
    ) -> QuerySet[Handoff]:
        if self.value() == "yes":
            return queryset.filter(_overdue())
        if self.value() == "no":
            return queryset.exclude(_overdue())
        return queryset


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    """Review completed handoffs; every field is read-only.

    The verdict changes only through `handoffs.handoff_review` (the change page's
    review form and the two bulk actions), so each review writes its Event.
    """

    list_display = [
        "id",
        "handoff_title",
        "workflow",
        "version_number",
        "assignee_label",
        "state",
        "outcome",
        "overdue",
        "verdict",
        "reviewed",
        "completed",
    ]
    list_filter = [
        "state",
        AssigneeGroupFilter,
        "workflow",
        VersionFilter,
        "verdict",
        OverdueFilter,
    ]
    list_select_related = ["workflow", "version", "reviewed_by"]
    list_per_page = 50
    search_fields = [
        "title",
        "node_id",
        "instructions",
        "outcome",
        "note",
        "assignee",
        "claimed_by__username",
    ]
    search_help_text = (
        "Title, node, instructions, outcome, note, assignee or claimer; "
        "a number also finds the handoff or run with that id."
    )
    date_hierarchy = "created_at"
    actions = ["mark_correct", "mark_incorrect"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "run_link",
                    "workflow",
                    "version_label",
                    "node_id",
                    "title",
                    "state",
                    ("assignee_kind", "assignee"),
                    ("escalate_kind", "escalate_to"),
                    ("sla_s", "due_at", "overdue"),
                    "created_at",
                ]
            },
        ),
        (
            "What was asked",
            {
                "fields": [
                    "instructions",
                    "outcomes",
                    "context_snapshot",
                    "context_problems",
                ]
            },
        ),
        (
            "Outcome",
            {
                "fields": [
                    ("claimed_by", "claimed_at", "first_claimed_at"),
                    ("completed_by", "completed_at"),
                    "escalated_at",
                    "outcome",
                    "note",
                ]
            },
        ),
        (
            "Review",
            {"fields": ["verdict", ("reviewed_by", "reviewed_at"), "review_comment"]},
        ),
        ("Event history", {"fields": ["event_history"]}),
    ]
    readonly_fields = [
        "run_link",
        "version_label",
        "overdue",
        "context_snapshot",
        "context_problems",
        "event_history",
    ]

    # Nothing writes state behind the state machine: no add, no change, no delete.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Handoff | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Handoff | None = None
    ) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        """Say whether the user may record verdicts (the service checks it again)."""
        user = request.user
        return bool(user.is_staff and user.has_perm("runs.review_handoff"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Handoff], search_term: str
    ) -> tuple[QuerySet[Handoff], bool]:
        """Also find a handoff or run by id (on their indexes, not a text cast)."""
        found, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        term = search_term.strip().lstrip("#")
        if (pk := as_id(term)) is not None:
            found |= queryset.filter(Q(pk=pk) | Q(run_id=pk))
        return found, may_have_duplicates

    # -------------------------------------------------------------- columns

    @admin.display(description="handoff", ordering="title")
    def handoff_title(self, obj: Handoff) -> str:
        return obj.title or obj.node_id

    @admin.display(description="reviewed", ordering="reviewed_at")
    def reviewed(self, obj: Handoff) -> str:
        """Return who reviewed when (a user deleted since shows as `?`)."""
        if obj.reviewed_at is None:
            return ""
        who = obj.reviewed_by.get_username() if obj.reviewed_by else "?"
        return format_html("{}<br>{}", who, _short_time(obj.reviewed_at))

    @admin.display(description="completed", ordering="completed_at")
    def completed(self, obj: Handoff) -> str:
        return _short_time(obj.completed_at) if obj.completed_at else ""

    @admin.display(description="version", ordering="version__number")
    def version_number(self, obj: Handoff) -> str:
        return f"v{obj.version.number}"

    @admin.display(description="version")
    def version_label(self, obj: Handoff) -> str:
        return f"{obj.version.workflow.slug} v{obj.version.number}"

    @admin.display(description="assignee", ordering="assignee")
    def assignee_label(self, obj: Handoff) -> str:
        return f"{obj.assignee_kind} {obj.assignee}"

    @admin.display(description="overdue", ordering="due_at")
    def overdue(self, obj: Handoff) -> str:
        # A word, not the yes/no icons: a column of red crosses would shout on each row.
        late = obj.is_active and obj.due_at is not None and obj.due_at <= timezone.now()
        return "overdue" if late else ""

    # -------------------------------------------------------------- detail

    @admin.display(description="run")
    def run_link(self, obj: Handoff) -> str:
        return format_html(
            '<a href="{}">run {}</a>', reverse("run", args=[obj.run_id]), obj.run_id
        )

    @admin.display(description="context snapshot")
    def context_snapshot(self, obj: Handoff) -> str:
        return _json_block(obj.context)

    @admin.display(description="context errors")
    def context_problems(self, obj: Handoff) -> str:
        return _json_block(obj.context_errors) if obj.context_errors else "none"

    @admin.display(description="events")
    def event_history(self, obj: Handoff) -> str:
        events = (
            Event.objects.filter(run_id=obj.run_id, handoff_id=obj.pk)
            .only("created_at", "kind", "from_state", "to_state", "actor", "reason")
            .order_by("id")[:MAX_EVENTS]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    formats.localize(timezone.localtime(e.created_at)),
                    e.kind,
                    f"{e.from_state} → {e.to_state}"
                    if e.from_state or e.to_state
                    else "",
                    e.actor,
                    e.reason,
                )
                for e in events
            ),
        )
        return format_html(
            '<table class="handoff-events"><thead><tr><th>time</th><th>kind</th>'
            "<th>from → to</th><th>actor</th><th>reason</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Handoff | None = None,
    ) -> HttpResponse:
        if obj is not None:
            review_form = HandoffCommentForm()
            # The field sits inside the (inert) change form but posts with the review.
            review_form.fields["comment"].widget.attrs["form"] = "handoff-review-form"
            context.update(
                review_form=review_form,
                review_allowed=self.has_review_permission(request),
                review_open=obj.state == HandoffState.COMPLETED,
                review_url=reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_review",
                    args=[obj.pk],
                ),
            )
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    # -------------------------------------------------------------- review

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_review"
        return [
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Record the verdict posted from a handoff's change page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        handoff = self.get_object(request, unquote(object_id))
        if handoff is None:
            raise Http404(f"there is no handoff {object_id}")
        if not (
            self.has_view_permission(request, handoff)
            and self.has_review_permission(request)
        ):
            raise PermissionDenied
        back = HttpResponseRedirect(
            reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[handoff.pk],
            )
        )
        form = HandoffReviewForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(map(str, errors))}")
            return back
        verdict = form.cleaned_data["verdict"]
        try:
            handoff_review(
                handoff_id=handoff.pk,
                verdict=verdict,
                comment=form.cleaned_data["comment"],
                user=request.user,
            )
        except RunError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Marked handoff {handoff.pk} {verdict}.")
        return back

    @admin.action(description="Mark correct…", permissions=["review"])
    def mark_correct(
        self, request: HttpRequest, queryset: QuerySet[Handoff]
    ) -> HttpResponse | None:
        return self._review_selected(request, queryset, HandoffVerdict.CORRECT)

    @admin.action(description="Mark incorrect…", permissions=["review"])
    def mark_incorrect(
        self, request: HttpRequest, queryset: QuerySet[Handoff]
    ) -> HttpResponse | None:
        return self._review_selected(request, queryset, HandoffVerdict.INCORRECT)

    def _review_selected(
        self, request: HttpRequest, queryset: QuerySet[Handoff], verdict: str
    ) -> HttpResponse | None:
        """Ask for a comment, then review each selected completed handoff."""
        # [(pk, state), ...] in list order
        selected = list(queryset.values_list("pk", "state"))
        reviewable = [pk for pk, state in selected if state == HandoffState.COMPLETED]
        skipped = len(selected) - len(reviewable)
        if not reviewable:
            messages.warning(
                request,
                "None of the selected handoffs is completed; only completed "
                "handoffs are reviewed.",
            )
            return None
        applying = "apply" in request.POST
        form = HandoffCommentForm(request.POST if applying else None)
        if applying and form.is_valid():
            self._review_many(
                request, reviewable, verdict, form.cleaned_data["comment"], skipped
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Mark handoffs {verdict}",
            "opts": self.opts,
            "media": self.media,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected_ids": [pk for pk, _ in selected],
            "verdict": verdict,
            "form": form,
            "reviewable": queryset.filter(pk__in=reviewable[:20]).select_related(
                "workflow", "version"
            ),
            "reviewable_count": len(reviewable),
            "skipped": skipped,
        }
        return TemplateResponse(
            request, "admin/runs/handoff/review_selected.html", context
        )

    def _review_many(
        self,
        request: HttpRequest,
        ids: list[int],
        verdict: str,
        comment: str,
        skipped: int,
    ) -> None:
        reviewed = 0
        refused: list[str] = []
        for handoff_id in ids:
            # One transaction per handoff, as in the change page's form.
            try:
                handoff_review(
                    handoff_id=handoff_id,
                    verdict=verdict,
                    comment=comment,
                    user=request.user,
                )
            except RunError as exc:
                refused.append(exc.message)
            except Handoff.DoesNotExist:
                skipped += 1
            else:
                reviewed += 1
        plural = "" if reviewed == 1 else "s"
        text = f"Marked {reviewed} handoff{plural} {verdict}."
        if skipped:
            text += f" Skipped {skipped} not completed."
        messages.add_message(
            request, messages.SUCCESS if reviewed else messages.WARNING, text
        )
        for message in refused[:5]:
            messages.error(request, message)


def _short_time(value: datetime) -> str:
    """Return a time as `2026-11-24 18:50` in the current time zone, for a narrow
    column: it may wrap before the hour, never inside the date."""
    local = timezone.localtime(value)
    return format_html(
        '<span class="nowrap">{}</span> {}',
        local.strftime("%Y-%m-%d"),
        local.strftime("%H:%M"),
    )


def _json_block(value: Any) -> str:
    """Return a value as escaped, indented JSON in a <pre>, cut to a readable size."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > MAX_CONTEXT_CHARS:
        text = text[:MAX_CONTEXT_CHARS] + f"\n… cut at {MAX_CONTEXT_CHARS} characters"
    return format_html('<pre class="handoff-json">{}</pre>', text)
