"""The Scalekit Python SDK's gRPC calls, made with grpcio (Google's C-core gRPC) as the SDK makes them.

Run by python-grpcio.test.ts, which starts Switchboard with a self-signed certificate. The SDK itself
cannot be installed where Switchboard is built, so this reproduces what it puts on the wire
(the SDK's scalekit/core.py and scalekit/common/exceptions.py): the client-credentials token fetch, a TLS channel
with the token as call credentials, the per-call metadata that carries `authorization` a second
time, and its error decoding. Messages come from the server's own descriptors (a
FileDescriptorSet the test writes), so nothing is generated.

Environment: SWITCHBOARD_URL (https://localhost:PORT), SWITCHBOARD_CERT (the certificate's PEM
file), SWITCHBOARD_DESCRIPTORS (the FileDescriptorSet), SWITCHBOARD_CLIENT_ID and
SWITCHBOARD_CLIENT_SECRET. Prints one JSON object per step; after the `magic_link` step it waits
for one line on standard input (the test follows the consent in between).
"""

import json
import os
import platform
import ssl
import sys
import urllib.parse
import urllib.request

import grpc

# The well-known types first: the descriptors below import them from the default pool.
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, duration_pb2, json_format
from google.protobuf import message_factory, struct_pb2, timestamp_pb2, wrappers_pb2  # noqa: F401

SDK_VERSION = "Scalekit-Python/2.10.0"
API_VERSION = "20260513"
USER_AGENT = f"{SDK_VERSION} Python/{platform.python_version()} ({platform.system()}; {platform.machine()})"
POOL = descriptor_pool.Default()


def add_status_proto():
    """google/rpc/status.proto as googleapis-common-protos ships it (the SDK's grpc_status reads it)."""
    status = descriptor_pb2.FileDescriptorProto(
        name="google/rpc/status.proto", package="google.rpc", syntax="proto3", dependency=["google/protobuf/any.proto"]
    )
    message = status.message_type.add(name="Status")
    label = descriptor_pb2.FieldDescriptorProto
    message.field.add(name="code", number=1, type=label.TYPE_INT32, label=label.LABEL_OPTIONAL)
    message.field.add(name="message", number=2, type=label.TYPE_STRING, label=label.LABEL_OPTIONAL)
    message.field.add(
        name="details", number=3, type=label.TYPE_MESSAGE, label=label.LABEL_REPEATED, type_name=".google.protobuf.Any"
    )
    POOL.Add(status)


def load_descriptors(path):
    """The server's scalekit.v1 files, in the dependency order the test wrote them."""
    with open(path, "rb") as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    for file in files.file:
        POOL.Add(file)


def message_class(name):
    descriptor = POOL.FindMessageTypeByName(name)
    get = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    return get(descriptor) if get else message_factory.MessageFactory(POOL).GetPrototype(descriptor)


def fetch_token(url, context, client_id, client_secret):
    """POST /oauth/token, form-encoded client credentials, as the SDK's constructor does with requests."""
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    ).encode()
    request = urllib.request.Request(
        f"{url}/oauth/token", data=form, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, context=context) as response:
        return json.load(response)["access_token"]


def secure_channel(url, pem, token):
    """scalekit/core.py: always TLS, the token as call credentials, the URL's host:port as target."""
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=pem), grpc.access_token_call_credentials(token)
    )
    return grpc.secure_channel(urllib.parse.urlparse(url).netloc, credentials)


def sdk_metadata(token):
    """grpc_exec's per-call metadata: `authorization` again, beside the call credentials' one."""
    return (
        ("user-agent", USER_AGENT),
        ("x-api-version", API_VERSION),
        ("x-sdk-version", SDK_VERSION),
        ("authorization", f"Bearer {token}"),
    )


def from_call(call):
    """Mirrors grpc_status.rpc_status.from_call (grpcio-status): the Status in grpc-status-details-bin.

    None without that trailer; ValueError when its code or message differ from the call's.
    """
    Status = message_class("google.rpc.Status")
    for key, value in call.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            rich_status = Status.FromString(value)
            if call.code().value[0] != rich_status.code:
                raise ValueError(f"Code in Status proto ({rich_status.code}) doesn't match status code ({call.code()})")
            if call.details() != rich_status.message:
                raise ValueError(
                    f"Message in Status proto ({rich_status.message}) doesn't match status details ({call.details()})"
                )
            return rich_status
    return None


def decode_error(error):
    """scalekit/common/exceptions.py: message and details from from_call, error_code from the first ErrorInfo."""
    status = from_call(error)
    if status is None:
        # Where the SDK raises AttributeError ('NoneType' object has no attribute 'message').
        raise AttributeError(f"no grpc-status-details-bin on {error.code().name}: {error.details()}")
    info = message_class("scalekit.v1.errdetails.ErrorInfo")()
    if not status.details or not status.details[0].Unpack(info):
        raise ValueError(f"the first detail is not a scalekit ErrorInfo: {list(status.details)}")
    return {
        "code": error.code().name,
        "message": status.message,
        "error_code": info.error_code,
        "error_info": json_format.MessageToDict(info),
    }


class Client:
    """The gRPC half of ScalekitClient: one channel, and calls that carry the SDK's metadata."""

    def __init__(self, url, pem, channel_token, metadata_token):
        self.channel = secure_channel(url, pem, channel_token)
        self.metadata = sdk_metadata(metadata_token)

    def call(self, method, request_type, response_type, **fields):
        request_class = message_class(request_type)
        stub = self.channel.unary_unary(
            method,
            request_serializer=request_class.SerializeToString,
            response_deserializer=message_class(response_type).FromString,
        )
        return stub(request_class(**fields), metadata=self.metadata, timeout=30)

    def close(self):
        self.channel.close()


ACCOUNTS = "/scalekit.v1.connected_accounts.ConnectedAccountService/"
ACCOUNTS_PKG = "scalekit.v1.connected_accounts."
TOOLS = "/scalekit.v1.tools.ToolService/"
MCP = "/scalekit.v1.mcp.McpService/"


def step(name, **result):
    print(json.dumps({"step": name, **result}), flush=True)


def failed(call):
    """Calls `call`, which must fail; answers its decoded error."""
    try:
        call()
    except grpc.RpcError as error:
        return decode_error(error)
    raise AssertionError("the call succeeded")


def execute_tool(client, tool_name, params):
    struct = struct_pb2.Struct()
    struct.update(params)
    return client.call(
        TOOLS + "ExecuteTool",
        "scalekit.v1.tools.ExecuteToolRequest",
        "scalekit.v1.tools.ExecuteToolResponse",
        tool_name=tool_name,
        identifier="john-doe",
        connector="MY_GMAIL",
        params=struct,
    )


def main():
    env = os.environ
    url, cert = env["SWITCHBOARD_URL"], env["SWITCHBOARD_CERT"]
    add_status_proto()
    load_descriptors(env["SWITCHBOARD_DESCRIPTORS"])
    with open(cert, "rb") as f:
        pem = f.read()
    context = ssl.create_default_context(cafile=cert)
    token = fetch_token(url, context, env["SWITCHBOARD_CLIENT_ID"], env["SWITCHBOARD_CLIENT_SECRET"])
    client = Client(url, pem, token, token)
    account = {"connector": "MY_GMAIL", "identifier": "john-doe"}

    listed = client.call(
        "/scalekit.v1.connections.ConnectionService/ListAppConnections",
        "scalekit.v1.connections.ListAppConnectionsRequest",
        "scalekit.v1.connections.ListAppConnectionsResponse",
    )
    step("list_app_connections", connections=[json_format.MessageToDict(c) for c in listed.connections])

    step("get_unknown_account", error=failed(lambda: client.call(
        ACCOUNTS + "GetConnectedAccountAuth",
        ACCOUNTS_PKG + "GetConnectedAccountByIdentifierRequest",
        ACCOUNTS_PKG + "GetConnectedAccountByIdentifierResponse",
        connector="MY_GMAIL",
        identifier="nobody-héré ☃",
    )))

    created = client.call(
        ACCOUNTS + "CreateConnectedAccount",
        ACCOUNTS_PKG + "CreateConnectedAccountRequest",
        ACCOUNTS_PKG + "CreateConnectedAccountResponse",
        **account,
        connected_account=message_class(ACCOUNTS_PKG + "CreateConnectedAccount")(),
    )
    step("create_account", connected_account=json_format.MessageToDict(created.connected_account))

    link = client.call(
        ACCOUNTS + "GetMagicLinkForConnectedAccount",
        ACCOUNTS_PKG + "GetMagicLinkForConnectedAccountRequest",
        ACCOUNTS_PKG + "GetMagicLinkForConnectedAccountResponse",
        **account,
    )
    step("magic_link", link=link.link, has_expiry=link.HasField("expiry"))
    if sys.stdin.readline().strip() != "consented":
        raise SystemExit("the test did not follow the consent")

    mail = execute_tool(client, "gmail_fetch_mails", {"max_results": 1})
    step("execute_tool", data=json_format.MessageToDict(mail.data), execution_id=mail.execution_id)

    step("execute_tool_invalid", error=failed(lambda: execute_tool(client, "gmail_fetch_mails", {"max_results": 0})))
    step("execute_tool_provider_error", error=failed(
        lambda: execute_tool(client, "gmail_get_message_by_id", {"message_id": "no-such-message"})
    ))

    # Two authorization values, the metadata's first on grpcio's wire, then the call credentials':
    # one valid value suffices, whichever it is (after a refresh the channel's is the stale one).
    stale = Client(url, pem, token, "not-a-token")
    after_refresh = Client(url, pem, "not-a-token", token)
    neither = Client(url, pem, "not-a-token", "not-a-token-either")
    for name, other in (("wrong_metadata_token", stale), ("wrong_channel_token", after_refresh)):
        got = other.call(
            ACCOUNTS + "GetConnectedAccountAuth",
            ACCOUNTS_PKG + "GetConnectedAccountByIdentifierRequest",
            ACCOUNTS_PKG + "GetConnectedAccountByIdentifierResponse",
            **account,
        )
        step(name, connected_account=json_format.MessageToDict(got.connected_account))
    step("no_valid_token", error=failed(lambda: neither.call(
        ACCOUNTS + "GetConnectedAccountAuth",
        ACCOUNTS_PKG + "GetConnectedAccountByIdentifierRequest",
        ACCOUNTS_PKG + "GetConnectedAccountByIdentifierResponse",
        **account,
    )))
    for other in (stale, after_refresh, neither):
        other.close()

    instance = client.call(
        MCP + "EnsureMcpInstance",
        "scalekit.v1.mcp.EnsureMcpInstanceRequest",
        "scalekit.v1.mcp.EnsureMcpInstanceResponse",
        config_name="reminder-manager",
        user_identifier="john-doe",
    ).instance
    step("ensure_mcp_instance", instance=json_format.MessageToDict(instance))
    state = client.call(
        MCP + "GetMcpInstanceAuthState",
        "scalekit.v1.mcp.GetMcpInstanceAuthStateRequest",
        "scalekit.v1.mcp.GetMcpInstanceAuthStateResponse",
        instance_id=instance.id,
        include_auth_links=True,
    )
    step("mcp_instance_auth_state", connections=[json_format.MessageToDict(c) for c in state.connections])

    client.call(
        ACCOUNTS + "DeleteConnectedAccount",
        ACCOUNTS_PKG + "DeleteConnectedAccountRequest",
        ACCOUNTS_PKG + "DeleteConnectedAccountResponse",
        **account,
    )
    step("delete_account", gone=failed(lambda: client.call(
        ACCOUNTS + "GetConnectedAccountAuth",
        ACCOUNTS_PKG + "GetConnectedAccountByIdentifierRequest",
        ACCOUNTS_PKG + "GetConnectedAccountByIdentifierResponse",
        **account,
    )))
    client.close()


if __name__ == "__main__":
    main()
