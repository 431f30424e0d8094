"""`d`: dispatch one call. The form (from, to, agent, variables) first shows the verdicts of
`zaza calls dispatch --dry-run` (the numbers, the callee's calling window, each rule of the
contact policy), then asks; only a yes dials, through the code `calls dispatch` runs
(calls/admission.py: the same checks again, then the POST through the policy's guard)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from zazacli.errors import UsageError, ZazaError
from zazacli.output.safe import safe_text
from zazacli.sanitize import plain_value
from zazacli.ui.base import TitleBar

if TYPE_CHECKING:
    from zazacli.calls.admission import Dialling
    from zazacli.calls.dispatch import DispatchRequest

FIELDS = (
    ("from", "caller id: one of your organisation's numbers"),
    ("to", "the number to call"),
    ("agent", "agent id (zaza agents list)"),
    ("vars", "variables: KEY=VALUE KEY=VALUE (optional)"),
)


def plan_grid(rows: list[tuple[str, Any]]) -> Table:
    """The dry run's rows, as `calls dispatch --dry-run` lists them: data shown literally."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in rows:
        style = "red" if "BLOCKED" in plain_value(value) else ""
        grid.add_row(safe_text(key), safe_text(plain_value(value), style))
    return grid


class DispatchScreen(Screen[None]):
    DEFAULT_CSS = """
    DispatchScreen Input { margin: 0 1; }
    DispatchScreen #plan, DispatchScreen #verdict { padding: 0 1; height: auto; }
    DispatchScreen #confirm { height: auto; display: none; padding: 0 1; }
    DispatchScreen #confirm.shown { display: block; }
    """
    AUTO_FOCUS = "#field-from"  # `d`, then type: the first field, not the scrolling form
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("y", "dial", "Dial", show=False),
        Binding("n", "cancel", "Do not dial", show=False),
    ]

    def __init__(self, dialling: Dialling) -> None:
        super().__init__()
        self.dialling = dialling
        self.request: DispatchRequest | None = None  # checked, waiting for a yes
        self.dialled: int | None = None  # the id of the call queued
        self.refusal: str | None = None  # why the last request may not be dialled
        self.notes: list[str] = []  # the checks' notes, shown with the verdict, never printed
        dialling.warn = dialling.notice = self.notes.append

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll():
            yield Static(Text("Dispatch a call  (enter checks; nothing is dialled yet)", "bold"))
            for name, placeholder in FIELDS:
                yield Input(placeholder=placeholder, id=f"field-{name}")
            yield Static(id="plan")
            yield Static(id="verdict")
            with Horizontal(id="confirm"):
                yield Button("Dial (y)", id="dial", variant="warning")
                yield Button("Do not dial (n)", id="cancel")
        yield Footer()

    def value(self, name: str) -> str:
        return self.query_one(f"#field-{name}", Input).value.strip()

    def say(self, message: str, style: str = "") -> None:
        self.query_one("#verdict", Static).update(safe_text(message, style, multiline=True))

    # ------------------------------------------------------------ checking

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._ask(False)
        self.request = None
        try:
            request = self._request()
        except ZazaError as error:
            self._refused(error)
            return
        self.query_one("#plan", Static).update("")
        self.say("checking (the numbers, the calling window, the contact policy)…", "dim")
        self._check(request)

    def _request(self) -> DispatchRequest:
        """The form read as `calls dispatch` reads its options."""
        from zazacli.calls.admission import read_request
        from zazacli.calls.dispatch import parse_variables

        agent = self.value("agent")
        if not agent.isdigit():
            raise UsageError("agent: a number is needed (zaza agents list)")
        variables = parse_variables(self.value("vars").split(), None)
        return read_request(
            self.value("from"),
            self.value("to"),
            int(agent),
            variables,
            region=self.dialling.region,
        )

    @work(thread=True, exclusive=True, group="dispatch")
    def _check(self, request: DispatchRequest) -> None:
        from zazacli.calls.admission import admit, fetch_agent
        from zazacli.calls.dispatch import before_the_post
        from zazacli.output.dispatch import plan_rows

        try:
            admission = admit(self.dialling, request, dry_run=True, allow_quiet_hours=False)
            try:
                with before_the_post():
                    agent = fetch_agent(self.dialling.api, request.agent_id)
            finally:
                admission.guard.store.close()
        except ZazaError as error:
            self.app.call_from_thread(self._refused, error)
            return
        if not agent.get("isActive", True):
            self.notes.append(f"agent {request.agent_id} is not active; the API would refuse")
        rows = plan_rows(admission, agent, None, self.dialling.api.base_url)
        rows = [row for row in rows if row[0] != "profile"]
        self.app.call_from_thread(self._checked, request, rows, admission.refusal())

    def _checked(
        self, request: DispatchRequest, rows: list[tuple[str, Any]], refusal: ZazaError | None
    ) -> None:
        self.query_one("#plan", Static).update(plan_grid(rows))
        if refusal is not None:
            self._refused(refusal)
            return
        self.refusal = None
        self.request = request
        notes = "".join(f"{note}\n" for note in self.notes)
        self.say(f"{notes}Dial {request.to_number} now? y dials, n does not.", "bold")
        self._ask(True)

    def _refused(self, error: ZazaError) -> None:
        self.request = None
        self.refusal = error.message
        hint = f"\nhint: {error.hint}" if error.hint else ""
        self.say(f"not dialled: {error.message}{hint}", "red")
        verdict = self.query_one("#verdict")
        self.call_after_refresh(verdict.scroll_visible, animate=False)

    def _ask(self, shown: bool) -> None:
        if not shown:
            self.notes.clear()
        confirm = self.query_one("#confirm")
        confirm.set_class(shown, "shown")
        if shown:
            self.query_one("#cancel", Button).focus(scroll_visible=False)
            # Once laid out (it was hidden): the question and its buttons in view, also
            # when the form is taller than the terminal.
            self.call_after_refresh(confirm.scroll_visible, animate=False)

    # ------------------------------------------------------------ dialling

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "dial":
            self.action_dial()
        else:
            self.action_cancel()

    def action_dial(self) -> None:
        request = self.request
        if request is None:
            return
        self.request = None  # one yes, one dial
        self._ask(False)
        self.say(f"dialling {request.to_number}…", "dim")
        self._dial(request)

    def action_cancel(self) -> None:
        if self.request is None:
            return
        self.request = None
        self._ask(False)
        self.say("not dialled (cancelled)", "yellow")

    @work(thread=True, exclusive=True, group="dispatch")
    def _dial(self, request: DispatchRequest) -> None:
        """`calls dispatch` without --dry-run: every rule again (a number put on the list
        meanwhile is refused before any request), then the POST through the guard."""
        from zazacli.calls.admission import admit, send

        try:
            admission = admit(self.dialling, request, dry_run=False, allow_quiet_hours=False)
            try:
                refusal = admission.refusal()
                if refusal is not None:
                    raise refusal
                result = send(self.dialling, admission)
            finally:
                admission.guard.store.close()
        except ZazaError as error:
            self.app.call_from_thread(self._refused, error)
            return
        self.app.call_from_thread(self._queued, result.call_id, request)

    def _queued(self, call_id: Any, request: DispatchRequest) -> None:
        self.dialled = int(call_id)
        self.say(f"queued call {call_id}: {request.from_number} -> {request.to_number}", "green")

    def action_back(self) -> None:
        self.dismiss(None)
