"""Label and field selectors: parsing, kube-apiserver's error messages, matching and rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_lab.sandbox import selectors
from gitops_lab.sandbox.selectors import (
    from_label_selector_object,
    parse_field_selector,
    parse_label_selector,
    selector_string,
    single_name,
)
from gitops_lab.sandbox.statuses import ApiError

KEY_RULES = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_RULES = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
               "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
               "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
SUBDOMAIN_RULES = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def bad_request(call, *args, **kwargs) -> str:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    assert (info.value.code, info.value.reason) == (400, "BadRequest")
    assert info.value.status()["message"] == info.value.message
    return info.value.message


# --- label selector strings ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "rendered"), [
    ("", ""),
    ("   ", ""),
    ("app=web", "app=web"),
    ("app==web", "app==web"),
    ("app!=web", "app!=web"),
    ("app = web , tier", "app=web,tier"),
    ("tier=web, !canary", "!canary,tier=web"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("env in (prod)", "env in (prod)"),
    ("env notin (b,a,b)", "env notin (a,b)"),
    ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
    ("a=", "a="),
    ("a=,b", "a=,b"),
    ("in", "in"),
    ("a=in", "a=in"),
    ("a in (in,notin)", "a in (in,notin)"),
    ("size>3,size<10", "size>3,size<10"),
    ("a=\x00b", "a=b"),
])
def test_label_selector_renders_sorted_by_key(text: str, rendered: str) -> None:
    assert str(parse_label_selector(text)) == rendered


@pytest.mark.parametrize(("text", "message"), [
    ("a in", "unable to parse requirement: found '' expected: '('"),
    ("a in web", "unable to parse requirement: found 'web' expected: '('"),
    ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
    ("a,", "found '', expected: identifier after ','"),
    ("a,=b", "found '=', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a(", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("a\x00b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a, \x00b", "found '', expected: identifier after ','"),
    ("a,\x00,b", "found ',', expected: identifier after ','"),
    ("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value "
            "must be an integer"),
    ("a=-x", f'unable to parse requirement: values[0][a]: Invalid value: "-x": {VALUE_RULES}'),
    ("a>-1", f'unable to parse requirement: values[0][a]: Invalid value: "-1": {VALUE_RULES}'),
    ("a>x_", "unable to parse requirement: [values[0]: Invalid value: \"x_\": for 'Gt', 'Lt' operators, the value "
             f'must be an integer, values[0][a]: Invalid value: "x_": {VALUE_RULES}]'),
    ("a in (ok,-b)", f'unable to parse requirement: values[0][a]: Invalid value: "-b": {VALUE_RULES}'),
    ("a=" + "v" * 64, 'unable to parse requirement: values[0][a]: Invalid value: "' + "v" * 64
     + '": must be no more than 63 bytes'),
    ("a=\u2603", f'unable to parse requirement: values[0][a]: Invalid value: "\u2603": {VALUE_RULES}'),
    ("-a", f'unable to parse requirement: <nil>: Invalid value: "-a": name part {KEY_RULES}'),
    ("a/", 'unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; '
           f"name part {KEY_RULES}"),
    ("/a", 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'),
    ("A.B/c", f'unable to parse requirement: <nil>: Invalid value: "A.B/c": prefix part {SUBDOMAIN_RULES}'),
    ("a/b/c", 'unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key '
              f"{KEY_RULES} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"),
    ("k" * 64, f'unable to parse requirement: <nil>: Invalid value: "{"k" * 64}": name part must be no more than '
               "63 bytes"),
])
def test_label_selector_errors_are_kube_apiservers(text: str, message: str) -> None:
    assert bad_request(parse_label_selector, text) == message


LABELS = {"app": "web", "tier": "frontend", "size": "5", "empty": ""}


@pytest.mark.parametrize(("text", "selected"), [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=api", False),
    ("app!=api", True),
    ("app!=web", False),
    ("missing!=x", True),
    ("missing=x", False),
    ("missing=", False),
    ("empty=", True),
    ("empty", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("tier in (frontend,backend)", True),
    ("tier in (backend)", False),
    ("missing in (a)", False),
    ("tier notin (frontend)", False),
    ("tier notin (backend)", True),
    ("missing notin (a)", True),
    ("size>4", True),
    ("size>5", False),
    ("size<6", True),
    ("size<5", False),
    ("app>1", False),
    ("missing<1", False),
    ("app=web,tier=frontend", True),
    ("app=web,tier=backend", False),
])
def test_label_selector_matching(text: str, selected: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is selected


def test_empty_selector_matches_objects_without_labels() -> None:
    assert parse_label_selector("").matches(None)
    assert parse_label_selector("!app").matches(None)
    assert not parse_label_selector("app").matches(None)


@pytest.mark.parametrize(("text", "key", "value"), [
    ("app=web,tier", "app", "web"),
    ("app==web", "app", "web"),
    ("app in (web)", "app", "web"),
    ("app in (a,b)", "app", None),
    ("app!=web", "app", None),
    ("tier", "app", None),
])
def test_requires_exact_match(text: str, key: str, value: str | None) -> None:
    assert parse_label_selector(text).requires_exact_match(key) == value


# --- metav1.LabelSelector objects ------------------------------------------------------------------------------

def test_label_selector_object_renders_like_the_api() -> None:
    sel = {"matchLabels": {"tier": "web", "app": "shop"},
           "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["qa", "dev"]},
                                {"key": "canary", "operator": "DoesNotExist"},
                                {"key": "zone", "operator": "Exists"},
                                {"key": "role", "operator": "In", "values": ["b", "a"]}]}
    assert selector_string(sel) == "app=shop,!canary,env notin (dev,qa),role in (a,b),tier=web,zone"
    built = from_label_selector_object(sel)
    labels = {"app": "shop", "tier": "web", "zone": "z1", "role": "a", "env": "prod"}
    assert built.matches(labels)
    assert not built.matches({**labels, "canary": "true"})
    assert not built.matches({**labels, "env": "qa"})
    assert not built.matches({key: v for key, v in labels.items() if key != "zone"})


def test_absent_selector_selects_nothing_and_empty_selects_everything() -> None:
    nothing, everything = from_label_selector_object(None), from_label_selector_object({})
    assert not nothing.matches({"a": "b"}) and not nothing.empty
    assert everything.matches({"a": "b"}) and everything.matches(None) and everything.empty
    assert selector_string(None) == "" and selector_string({}) == ""


@pytest.mark.parametrize(("sel", "message"), [
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
     '"Gt" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]},
     "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
     "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     'values: Invalid value: ["x"]: values set must be empty for exists and does not exist'),
    ({"matchLabels": {"a b": "c"}}, f'key: Invalid value: "a b": name part {KEY_RULES}'),
    ({"matchLabels": {"a": "c d"}}, f'values[0][a]: Invalid value: "c d": {VALUE_RULES}'),
])
def test_invalid_selector_objects(sel: dict, message: str) -> None:
    assert bad_request(from_label_selector_object, sel) == message
    assert selectors.format_label_selector(sel) == "<error>"


@pytest.mark.parametrize(("sel", "text"), [
    (None, "<none>"),
    ({}, "<none>"),
    ({"matchLabels": {"app": "web"}}, "app=web"),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]}, "tier in (a,b)"),
])
def test_format_label_selector_for_table_cells(sel: dict | None, text: str) -> None:
    assert selectors.format_label_selector(sel) == text


def test_format_labels_sorts_pairs() -> None:
    assert selectors.format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert selectors.format_labels({}) == selectors.format_labels(None) == "<none>"


# --- label syntax ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "valid"), [
    ("a", True), ("A-b_c.d", True), ("k" * 63, True), ("k" * 64, False), ("example.com/x", True),
    ("a." * 126 + "b/x", True), ("a" * 254 + "/x", False), ("-a", False), ("a-", False), ("a b", False),
    ("Example.com/x", False), ("", False), ("\u00e9", False),
])
def test_label_key_syntax(key: str, valid: bool) -> None:
    assert (selectors.label_key_errors(key) == []) is valid


def test_overlong_prefix_reports_its_length() -> None:
    assert selectors.label_key_errors("a" * 254 + "/x") == ["prefix part must be no more than 253 bytes"]


@pytest.mark.parametrize(("value", "valid"), [
    ("", True), ("v", True), ("v" * 63, True), ("v" * 64, False), ("a.b-c_d", True), ("_a", False),
    ("a b", False), ("a/b", False),
])
def test_label_value_syntax(value: str, valid: bool) -> None:
    assert (selectors.label_value_errors(value) == []) is valid


@pytest.mark.parametrize(("text", "quoted"), [
    ("plain", '"plain"'), ('say "hi"\\', '"say \\"hi\\"\\\\"'), ("tab\tnl\n", '"tab\\tnl\\n"'),
    ("\x01\x7f", '"\\x01\\x7f"'), ("\u00e9\u2603", '"\u00e9\u2603"'), ("\u00a0\u0085", '"\\u00a0\\u0085"'),
    ("\U000e0001", '"\\U000e0001"'),
])
def test_go_quote(text: str, quoted: str) -> None:
    assert selectors.go_quote(text) == quoted


# --- field selectors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "resource", "rendered"), [
    ("", "pods", ""),
    ("metadata.name=web", "configmaps", "metadata.name=web"),
    ("metadata.name==web", "configmaps", "metadata.name=web"),
    ("status.phase!=Running,,metadata.name==p", "pods", "metadata.name=p,status.phase!=Running"),
    ("spec.host=n1", "pods", "spec.nodeName=n1"),
    ("metadata.name=a\\,b\\=c\\\\", "secrets", "metadata.name=a\\,b\\=c\\\\"),
    ("involvedObject.kind=Pod,involvedObject.name=web,reason=Pulled", "events",
     "involvedObject.kind=Pod,involvedObject.name=web,reason=Pulled"),
    ("spec.unschedulable=true", "nodes", "spec.unschedulable=true"),
    ("status.phase=Active", "namespaces", "status.phase=Active"),
    ("type=Opaque", "secrets", "type=Opaque"),
    ("spec.type=ClusterIP,spec.clusterIP=None", "services", "spec.clusterIP=None,spec.type=ClusterIP"),
    ("metadata.namespace=x", "apiextensions.k8s.io/customresourcedefinitions", "metadata.namespace=x"),
])
def test_field_selector_parse_and_render(text: str, resource: str, rendered: str) -> None:
    assert str(parse_field_selector(text, resource)) == rendered


@pytest.mark.parametrize(("text", "resource", "message"), [
    ("foo=bar", "pods", "field label not supported: foo"),
    ("metadata.namespace=x", "nodes", "field label not supported: metadata.namespace"),
    ("metadata.namespace=x", "namespaces", "field label not supported: metadata.namespace"),
    ("status.replicas=1", "apps/replicasets",
     '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("data=x", "configmaps", '"data" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("spec.color=red", "example.com/widgets", "field label not supported: spec.color"),
    ("metadata.name =x", "pods", "field label not supported: metadata.name "),
    ("a", "pods", "invalid selector: 'a'; can't understand 'a'"),
    ("metadata.name=x,b", "pods", "invalid selector: 'metadata.name=x,b'; can't understand 'b'"),
    ("a=b=c", "pods", "invalid field selector: unescaped character in value: 61"),
    ("a=b\\x", "pods", "invalid field selector: invalid escape sequence: \\x"),
    ("a=b\\", "pods", "invalid field selector: invalid escape sequence: \\"),
    ("zzz=1,a", "pods", "invalid selector: 'zzz=1,a'; can't understand 'a'"),
])
def test_field_selector_errors_are_kube_apiservers(text: str, resource: str, message: str) -> None:
    assert bad_request(parse_field_selector, text, resource) == message


def test_custom_resource_field_labels() -> None:
    sel = parse_field_selector("spec.color=red,metadata.namespace=ns", "example.com/widgets",
                               custom_fields=[".spec.color"])
    assert sel.matches({"metadata": {"name": "w", "namespace": "ns"}, "spec": {"color": "red"}})
    assert not sel.matches({"metadata": {"name": "w", "namespace": "ns"}, "spec": {"color": "blue"}})
    message = bad_request(parse_field_selector, "metadata.namespace=ns", "example.com/gizmos", namespaced=False)
    assert message == "field label not supported: metadata.namespace"
    counts = parse_field_selector("spec.size=3,spec.on=true", "example.com/w", custom_fields=[".spec.size",
                                                                                             ".spec.on"])
    assert counts.matches({"spec": {"size": 3, "on": True}})
    assert not counts.matches({"spec": {"size": 4, "on": True}})


POD = {"metadata": {"name": "web-1", "namespace": "shop"},
       "spec": {"nodeName": "node-a", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "serviceAccountName": "default"},
       "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]}}


@pytest.mark.parametrize(("text", "selected"), [
    ("metadata.name=web-1", True),
    ("metadata.name!=web-1", False),
    ("metadata.namespace=shop", True),
    ("spec.nodeName=node-a", True),
    ("spec.host=node-a", True),
    ("spec.nodeName=", False),
    ("spec.restartPolicy=Always,spec.schedulerName=default-scheduler", True),
    ("spec.serviceAccountName=default", True),
    ("spec.hostNetwork=false", True),
    ("status.phase=Running", True),
    ("status.phase=Pending", False),
    ("status.podIP=10.0.0.5", True),
    ("status.podIPs=", True),
    ("status.nominatedNodeName=", True),
])
def test_pod_field_matching(text: str, selected: bool) -> None:
    assert parse_field_selector(text, "pods").matches(POD) is selected


EVENT = {"metadata": {"name": "web.17a", "namespace": "shop"},
         "involvedObject": {"kind": "Pod", "name": "web", "namespace": "shop", "uid": "u-1", "apiVersion": "v1",
                            "resourceVersion": "42", "fieldPath": "spec.containers{web}"},
         "reason": "Pulled", "type": "Normal", "reportingComponent": "kubelet", "source": {"host": "node-a"}}


@pytest.mark.parametrize(("text", "selected"), [
    ("involvedObject.kind=Pod,involvedObject.name=web,involvedObject.namespace=shop", True),
    ("involvedObject.uid=u-1,involvedObject.apiVersion=v1,involvedObject.resourceVersion=42", True),
    ("involvedObject.fieldPath=spec.containers{web}", True),
    ("reason=Pulled,type=Normal", True),
    ("type=Warning", False),
    ("source=kubelet", True),
    ("reportingComponent=kubelet", True),
])
def test_event_field_matching(text: str, selected: bool) -> None:
    assert parse_field_selector(text, "events").matches(EVENT) is selected


@pytest.mark.parametrize(("resource", "obj", "text", "selected"), [
    ("nodes", {"metadata": {"name": "n"}, "spec": {"unschedulable": True}}, "spec.unschedulable=true", True),
    ("nodes", {"metadata": {"name": "n"}}, "spec.unschedulable=false", True),
    ("namespaces", {"metadata": {"name": "ns"}, "status": {"phase": "Terminating"}}, "status.phase=Active", False),
    ("secrets", {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}, "type=kubernetes.io/tls", True),
    ("services", {"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.9"}},
     "spec.type=NodePort,spec.clusterIP=10.96.0.9", True),
    ("configmaps", {"metadata": {"name": "c", "namespace": "a"}}, "metadata.namespace!=a", False),
])
def test_other_field_matching(resource: str, obj: dict, text: str, selected: bool) -> None:
    assert parse_field_selector(text, resource).matches(obj) is selected


@pytest.mark.parametrize(("text", "name", "exact"), [
    ("metadata.name=web", "web", "web"),
    ("metadata.name==web", "web", "web"),
    ("metadata.name!=web", None, None),
    ("metadata.name=web,metadata.namespace=x", None, "web"),
    ("", None, None),
])
def test_single_name(text: str, name: str | None, exact: str | None) -> None:
    sel = parse_field_selector(text, "pods")
    assert single_name(sel) == name
    assert sel.requires_exact_match("metadata.name") == exact


# --- invariants -----------------------------------------------------------------------------------------------

selector_alphabet = st.sampled_from([*"ab=!(),<> \t-_./09", "in", "notin", "\x00", "\u2603"])
selector_like = st.lists(selector_alphabet, max_size=30).map("".join)


@given(st.one_of(st.text(), selector_like))
def test_any_text_is_a_label_selector_or_a_400(text: str) -> None:
    try:
        sel = parse_label_selector(text)
    except ApiError as err:
        assert err.code == 400 and err.reason == "BadRequest" and err.message
        return
    assert isinstance(sel, selectors.LabelSelector)
    assert parse_label_selector(str(sel)) == sel


@given(st.one_of(st.text(), selector_like), st.sampled_from(["pods", "events", "nodes", "configmaps", "x.io/ws"]))
def test_any_text_is_a_field_selector_or_a_400(text: str, resource: str) -> None:
    try:
        sel = parse_field_selector(text, resource)
    except ApiError as err:
        assert err.code == 400 and err.reason == "BadRequest" and err.message
        return
    assert parse_field_selector(str(sel), resource).terms == sel.terms


keys = st.sampled_from(["app", "tier", "example.com/role"])
values = st.sampled_from(["", "a", "b", "c-1"])


@given(st.dictionaries(keys, values), keys, st.lists(values, min_size=1, max_size=3))
def test_set_operators_agree_with_their_definition(labels: dict, key: str, vals: list) -> None:
    listed = ",".join(vals)
    inside = key in labels and labels[key] in vals
    assert parse_label_selector(f"{key} in ({listed})").matches(labels) is inside
    assert parse_label_selector(f"{key} notin ({listed})").matches(labels) is (not inside)
    assert parse_label_selector(key).matches(labels) is (key in labels)
    assert parse_label_selector(f"!{key}").matches(labels) is (key not in labels)
