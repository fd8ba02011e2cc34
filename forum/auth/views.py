"""Account views: thin wrappers over forum.auth.services."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import COOKIE_NAME, current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException

from forum.auth import defences, services
from forum.auth.forms import (
    ChangePasswordForm,
    EmailForm,
    LoginForm,
    LogoutForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from forum.errors import InvalidInput, RegistrationRefused
from forum.extensions import limiter
from forum.web import keeps_form_on_csrf_failure

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """A path to one of this site's pages to go to after logging in; anything else goes home."""
    home = url_for("threads.index")
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 or c == "\\" for c in target):
        return home
    # Only a path a page answers: "/https://evil.example", "/%5cevil.example" and friends are
    # no page of ours (a 404 at best, a redirect off the site behind a decoding proxy at worst).
    try:
        current_app.create_url_adapter(request).match(unquote(parts.path), method="GET")
    except HTTPException:
        return home
    return target


def _log_in(member, remember: bool) -> None:
    services.start_session(member, request.headers.get("User-Agent", ""))
    session.clear()  # a fresh session (and CSRF token) at the privilege change
    login_user(member, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def register():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(url_for("threads.index"))
    form = RegisterForm()
    refused = None
    if form.validate_on_submit():
        address = defences.address_hash(request.remote_addr)
        try:
            defences.check_form(form.website.data, form.stamp.data)
            member = services.register(
                form.handle.data,
                form.display_name.data,
                form.password.data,
                email=form.email.data,
                address_hash=address,
            )
        except RegistrationRefused as exc:
            defences.log_refusal(exc.reason, form.handle.data, form.email.data, address)
            refused = str(exc)
        except InvalidInput as exc:
            field = form.email if "e-mail" in str(exc) else form.handle
            field.errors.append(str(exc))
        else:
            _log_in(member, remember=False)
            flash(
                f"Welcome, {member.display_name}! We sent a link to {member.email}: "
                "follow it to confirm your address.",
                "success",
            )
            return redirect(url_for("threads.index"))
    # The trap starts empty again (a browser's autofill may have filled it).
    form.website.data = ""
    form.stamp.data = defences.stamp_for_form_shown_again(form.stamp.data)
    # A refusal is 200, an ordinary page saying "not now": nothing in the request was wrong (a
    # person on a busy shared address meets the cap too), and a bot learns nothing from it.
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form, refused=refused), status


@bp.route("/login", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@limiter.limit(
    "6/minute;30/hour",
    key_func=lambda: f"login-ip:{request.remote_addr}",
    methods=["POST"],
    error_message="Too many login attempts from your address: this one was not checked, so the "
    "password may well be right.",
)
def login():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))  # e.g. a second tab's stale link
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        member = services.authenticate(form.handle.data, form.password.data)
        if member is None:
            form.password.errors.append("That handle and password don't match.")
        else:
            # A suspended member may log in to read; every page tells them why and until when.
            _log_in(member, remember=form.remember.data)
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        services.end_session(current_user.session_token)
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("threads.index"))


@bp.route("/settings/password", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except InvalidInput as exc:
            form.current_password.errors.append(str(exc))
        else:
            # Keep this browser logged in under its new token, remembered if it was before.
            login_user(current_user._get_current_object(), remember=_remembered())
            flash("Password changed. Your other logins have been ended.", "success")
            return redirect(url_for("members.profile", handle=current_user.handle))
    return render_template("auth/change_password.html", form=form), 400 if form.errors else 200


def _remembered() -> bool:
    """Whether this browser logged in with "Remember me" (it carries the remember cookie)."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies


@bp.get("/confirm-email/<token>")
def confirm_email(token: str):
    try:
        member = services.confirm_email(token)
    except InvalidInput as exc:
        flash(str(exc), "warning")
        return redirect(
            url_for("auth.email_settings" if current_user.is_authenticated else "threads.index")
        )
    flash(f"Thanks: {member.email} is confirmed.", "success")
    return redirect(url_for("threads.index"))


@bp.route("/settings/email", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@login_required
@limiter.limit("10/hour", methods=["POST"], error_message="That is enough e-mail for an hour.")
def email_settings():
    """Change the address (confirmed by a link to the new one), or have the link sent again."""
    form = EmailForm()
    if request.method == "GET" and current_user.email and not current_user.email_confirmed_at:
        form.email.data = current_user.email
    if form.validate_on_submit():
        try:
            address = services.request_email_change(
                current_user, form.email.data, form.password.data
            )
        except InvalidInput as exc:
            (form.password if "password" in str(exc) else form.email).errors.append(str(exc))
        else:
            flash(f"We sent a confirmation link to {address}.", "success")
            return redirect(url_for("auth.email_settings"))
    return render_template("auth/email.html", form=form), 400 if form.errors else 200


def _reset_address() -> str:
    return "reset-address:" + (request.form.get("email") or "").strip().lower()


RESET_SENT = (
    "If that address belongs to an account, a link to reset its password is on its way. "
    "It works for an hour."
)


@bp.route("/reset-password", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@limiter.limit("10/hour", key_func=lambda: f"reset-ip:{request.remote_addr}", methods=["POST"])
@limiter.limit("3/hour", key_func=_reset_address, methods=["POST"])
def request_reset():
    """The same answer whether or not the address is known."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def reset_password(token: str):
    try:
        member = services.member_for_reset(token)
    except InvalidInput as exc:
        flash(str(exc), "warning")
        return redirect(url_for("auth.request_reset"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.new_password.data)
        except InvalidInput as exc:
            form.new_password.errors.append(str(exc))
        else:
            if current_user.is_authenticated:
                logout_user()
            flash(
                "Your password is changed and every login has been ended: log in with it now.",
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset_password.html", form=form, member=member
    ), 400 if form.errors else 200
