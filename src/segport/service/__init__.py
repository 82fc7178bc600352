"""The service API: what every face of segport (the CLI, the scheduler, the REST API, the
web app) calls, and all it may call.

Every function takes the workspace and an authenticated :class:`Actor` first, checks the
actor's role (``access.authorize``), writes the audit log when it changes something, and
answers with typed views (frozen dataclasses) that serialise to JSON as they are. Errors
are :class:`SegportError` and its kinds (``segport.errors``), each with a stable code and,
when one input is at fault, the field.

Names load lazily (PEP 562), so a command imports only the services it uses: the store
and HTTP libraries behind other services stay unloaded. ``tests/unit/service`` checks that
``__all__``, the lazy map and the typing imports below agree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from segport.errors import Busy, Conflict, Forbidden, Invalid, NotFound, SegportError, Unavailable

# name -> the module of this package that defines it
_WHERE: dict[str, str] = {
    "ATTRIBUTE_TYPES": "brevo_account",
    "BrevoAttributeView": "brevo_account",
    "BrevoFolderView": "brevo_account",
    "BrevoListView": "brevo_account",
    "create_brevo_attribute": "brevo_account",
    "create_brevo_list": "brevo_account",
    "list_brevo_attributes": "brevo_account",
    "list_brevo_folders": "brevo_account",
    "list_brevo_lists": "brevo_account",
    "Workspace": "workspace",
    "init_workspace": "opening",
    "open_workspace": "opening",
    "Action": "access",
    "Actor": "access",
    "Role": "access",
    "actor_named": "access",
    "parse_role": "access",
    "UserView": "users",
    "add_user": "users",
    "list_users": "users",
    "remove_user": "users",
    "set_role": "users",
    "set_password": "passwords",
    "verify_password": "passwords",
    "NewToken": "tokens",
    "TokenView": "tokens",
    "authenticate_token": "tokens",
    "create_token": "tokens",
    "list_tokens": "tokens",
    "revoke_token": "tokens",
    "ConnectionListing": "connections",
    "ConnectionSummary": "connections",
    "ConnectionView": "connections",
    "add_connection": "connections",
    "check_connection": "connections",
    "edit_connection": "connections",
    "list_connections": "connections",
    "new_secret_key": "connection_keys",
    "remove_connection": "connections",
    "rotate_secret_key": "connection_keys",
    "show_connection": "connections",
    "take_over": "connections",
    "usable_connections": "connections",
    "ExportConfig": "export_records",
    "ExportMapping": "export_records",
    "ExportView": "export_records",
    "CLEAR": "export_edits",
    "Clear": "export_edits",
    "ExportEdit": "export_edits",
    "visible_connections": "connections",
    "to_json": "views",
    "NewList": "export_brevo",
    "add_export": "export_configs",
    "detach_export": "export_configs",
    "duplicate_export": "export_configs",
    "edit_export": "export_configs",
    "list_exports": "export_configs",
    "remove_export": "export_configs",
    "show_export": "export_configs",
    "Rebuilt": "export_state",
    "rebuild_state": "export_state",
    "SegmentInfo": "segment_definitions",
    "count_segment": "segment_definitions",
    "create_segment": "segment_definitions",
    "delete_segment": "segment_definitions",
    "list_segments": "segment_definitions",
    "preview_segment": "segment_definitions",
    "rename_segment": "segment_definitions",
    "set_state": "segment_definitions",
    "show_segment": "segment_definitions",
    "update_segment": "segment_definitions",
    "SourceInfo": "profile_source",
    "describe_source": "profile_source",
    "load_profiles": "profile_source",
    "show_profiles": "profile_source",
    "use_table": "profile_source",
    "RunView": "runs",
    "RunOptions": "runs",
    "RunSummary": "runs",
    "Progress": "runs",
    "signals_cancel": "run_signals",
    "parse_attributes": "export_checks",
    "get_run": "runs",
    "list_runs": "runs",
    "run_export": "runs",
    "execute_requested": "runs",
    "cancel_run": "run_lifecycle",
    "claim_run": "run_lifecycle",
    "recover_runs": "run_lifecycle",
    "request_run": "run_lifecycle",
    "RunDetail": "run_records",
    "RunFile": "run_records",
    "list_all_runs": "run_records",
    "run_files": "run_records",
    "show_run": "run_records",
    "AuditView": "audit",
    "list_entries": "audit",
    "Report": "doctor",
    "diagnose": "doctor",
    "ConsentRequired": "connections",
    "PRIVATE_UMASK": "files",
    "Rows": "views",
    "WorkspaceCreated": "setup",
    "create_workspace": "setup",
    "FiringView": "system_schedule",
    "SystemScheduleView": "system_schedule",
    "set_system_schedule": "system_schedule",
    "show_system_schedule": "system_schedule",
    "turn_off_system_schedule": "system_schedule",
    "AlertTestView": "alerts",
    "AlertView": "alerts",
    "SmtpView": "alerts",
    "add_alert": "alerts",
    "list_alerts": "alerts",
    "remove_alert": "alerts",
    "set_smtp": "alerts",
    "show_smtp": "alerts",
    "test_alert": "alerts",
}

__all__ = [
    "ATTRIBUTE_TYPES",
    "CLEAR",
    "PRIVATE_UMASK",
    "Action",
    "Actor",
    "AlertTestView",
    "AlertView",
    "AuditView",
    "BrevoAttributeView",
    "BrevoFolderView",
    "BrevoListView",
    "Busy",
    "Clear",
    "Conflict",
    "ConnectionListing",
    "ConnectionSummary",
    "ConnectionView",
    "ConsentRequired",
    "ExportConfig",
    "ExportEdit",
    "ExportMapping",
    "ExportView",
    "FiringView",
    "Forbidden",
    "Invalid",
    "NewList",
    "NewToken",
    "NotFound",
    "Progress",
    "Rebuilt",
    "Report",
    "Role",
    "Rows",
    "RunDetail",
    "RunFile",
    "RunOptions",
    "RunSummary",
    "RunView",
    "SegmentInfo",
    "SegportError",
    "SmtpView",
    "SourceInfo",
    "SystemScheduleView",
    "TokenView",
    "Unavailable",
    "UserView",
    "Workspace",
    "WorkspaceCreated",
    "actor_named",
    "add_alert",
    "add_connection",
    "add_export",
    "add_user",
    "authenticate_token",
    "cancel_run",
    "check_connection",
    "claim_run",
    "count_segment",
    "create_brevo_attribute",
    "create_brevo_list",
    "create_segment",
    "create_token",
    "create_workspace",
    "delete_segment",
    "describe_source",
    "detach_export",
    "diagnose",
    "duplicate_export",
    "edit_connection",
    "edit_export",
    "execute_requested",
    "get_run",
    "init_workspace",
    "list_alerts",
    "list_all_runs",
    "list_brevo_attributes",
    "list_brevo_folders",
    "list_brevo_lists",
    "list_connections",
    "list_entries",
    "list_exports",
    "list_runs",
    "list_segments",
    "list_tokens",
    "list_users",
    "load_profiles",
    "new_secret_key",
    "open_workspace",
    "parse_attributes",
    "parse_role",
    "preview_segment",
    "rebuild_state",
    "recover_runs",
    "remove_alert",
    "remove_connection",
    "remove_export",
    "remove_user",
    "rename_segment",
    "request_run",
    "revoke_token",
    "rotate_secret_key",
    "run_export",
    "run_files",
    "set_password",
    "set_role",
    "set_smtp",
    "set_state",
    "set_system_schedule",
    "show_connection",
    "show_export",
    "show_profiles",
    "show_run",
    "show_segment",
    "show_smtp",
    "show_system_schedule",
    "signals_cancel",
    "take_over",
    "test_alert",
    "to_json",
    "turn_off_system_schedule",
    "update_segment",
    "usable_connections",
    "use_table",
    "verify_password",
    "visible_connections",
]

if TYPE_CHECKING:
    from segport.service.access import Action, Actor, Role, actor_named, parse_role
    from segport.service.alerts import (
        AlertTestView,
        AlertView,
        SmtpView,
        add_alert,
        list_alerts,
        remove_alert,
        set_smtp,
        show_smtp,
        test_alert,
    )
    from segport.service.audit import AuditView, list_entries
    from segport.service.brevo_account import (
        ATTRIBUTE_TYPES,
        BrevoAttributeView,
        BrevoFolderView,
        BrevoListView,
        create_brevo_attribute,
        create_brevo_list,
        list_brevo_attributes,
        list_brevo_folders,
        list_brevo_lists,
    )
    from segport.service.connection_keys import new_secret_key, rotate_secret_key
    from segport.service.connections import (
        ConnectionListing,
        ConnectionSummary,
        ConnectionView,
        ConsentRequired,
        add_connection,
        check_connection,
        edit_connection,
        list_connections,
        remove_connection,
        show_connection,
        take_over,
        usable_connections,
        visible_connections,
    )
    from segport.service.doctor import Report, diagnose
    from segport.service.export_brevo import NewList
    from segport.service.export_checks import parse_attributes
    from segport.service.export_configs import (
        add_export,
        detach_export,
        duplicate_export,
        edit_export,
        list_exports,
        remove_export,
        show_export,
    )
    from segport.service.export_edits import CLEAR, Clear, ExportEdit
    from segport.service.export_records import ExportConfig, ExportMapping, ExportView
    from segport.service.export_state import Rebuilt, rebuild_state
    from segport.service.files import PRIVATE_UMASK
    from segport.service.opening import init_workspace, open_workspace
    from segport.service.passwords import set_password, verify_password
    from segport.service.profile_source import (
        SourceInfo,
        describe_source,
        load_profiles,
        show_profiles,
        use_table,
    )
    from segport.service.run_lifecycle import cancel_run, claim_run, recover_runs, request_run
    from segport.service.run_records import RunDetail, RunFile, list_all_runs, run_files, show_run
    from segport.service.run_signals import signals_cancel
    from segport.service.runs import (
        Progress,
        RunOptions,
        RunSummary,
        RunView,
        execute_requested,
        get_run,
        list_runs,
        run_export,
    )
    from segport.service.segment_definitions import (
        SegmentInfo,
        count_segment,
        create_segment,
        delete_segment,
        list_segments,
        preview_segment,
        rename_segment,
        set_state,
        show_segment,
        update_segment,
    )
    from segport.service.setup import WorkspaceCreated, create_workspace
    from segport.service.system_schedule import (
        FiringView,
        SystemScheduleView,
        set_system_schedule,
        show_system_schedule,
        turn_off_system_schedule,
    )
    from segport.service.tokens import (
        NewToken,
        TokenView,
        authenticate_token,
        create_token,
        list_tokens,
        revoke_token,
    )
    from segport.service.users import UserView, add_user, list_users, remove_user, set_role
    from segport.service.views import Rows, to_json
    from segport.service.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:  # AttributeError lets `from segport.service import audit` find modules
        raise AttributeError(f"module 'segport.service' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"segport.service.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
