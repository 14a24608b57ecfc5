import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { McpConfig, McpConnectionAuthState, McpInstance } from '@switchboard/sdk';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { authState } from '../mcp/auth-state.js';
import { CONFIG_NAME_PATTERN, configToApi, MAX_MAPPINGS, type MappingInput } from '../mcp/configs.js';
import { parseExpiry } from '../mcp/session-tokens.js';
import { callerOf } from './auth.js';
import { given, pageOf, timestamp } from './convert.js';
import { unimplemented } from './errors.js';
import type { McpConfigConnectionToolMapping, McpService } from './gen/scalekit/v1/mcp/mcp_pb.js';

function configMessage(config: McpConfig) {
  return {
    id: config.id,
    name: config.name,
    description: config.description,
    connectionToolMappings: config.connection_tool_mappings.map((m) => ({
      connectionId: m.connection_id,
      connectionName: m.connection_name,
      provider: m.provider,
      tools: m.tools,
    })),
    mcpServerUrl: config.mcp_server_url,
  };
}

function instanceMessage(instance: McpInstance) {
  return {
    id: instance.id,
    name: instance.name,
    userIdentifier: instance.user_identifier,
    config: configMessage(instance.config),
    lastUsedAt: timestamp(instance.last_used_at),
    updatedAt: timestamp(instance.updated_at),
    // proto3 has no absent string: a caller not given the URL (see McpInstances.toApi) gets "".
    url: instance.url ?? '',
  };
}

/** As REST: read-only fields a caller echoes back (connection_id, provider) are ignored. */
function mappingInputs(mappings: McpConfigConnectionToolMapping[]): MappingInput[] {
  if (mappings.length > MAX_MAPPINGS) {
    throw new AppError('validation_failed', `connection_tool_mappings: at most ${MAX_MAPPINGS} mappings are allowed`);
  }
  return mappings.map((m) => {
    if (!m.connectionName || m.connectionName.length > 100) {
      throw new AppError('validation_failed', 'connection_tool_mappings.connection_name: give 1 to 100 characters');
    }
    return { connectionName: m.connectionName, tools: m.tools };
  });
}

function checkDescription(description: string) {
  if (description.length > 2000) throw new AppError('validation_failed', 'description: at most 2000 characters');
}

function checkText(field: string, value: string, max: number) {
  if (!value || value.length > max) throw new AppError('validation_failed', `${field}: give 1 to ${max} characters`);
}

/** McpService: the same domain calls as /api/v1/mcp/configs* and /api/v1/mcp/instances*. */
export function mcpService(services: Services): ServiceImpl<typeof McpService> {
  const { mcpConfigs, mcpInstances: instances } = services;
  // As REST: only admin clients hold instance URLs; a `read` one may list and get instances.
  const withUrl = (context: HandlerContext) => callerOf(context).scope === 'admin';
  const toApi = (detail: Parameters<typeof configToApi>[0]) => configToApi(detail, services.config.publicUrl);
  const authStateMessage = (state: McpConnectionAuthState) => ({
    connectionId: state.connection_id,
    connectionName: state.connection_name,
    provider: state.provider,
    connectedAccountId: state.connected_account_id,
    connectedAccountStatus: state.connected_account_status,
    authenticationLink: state.authentication_link,
  });

  return {
    async createMcpConfig(req) {
      const config = req.config;
      if (!config || !CONFIG_NAME_PATTERN.test(config.name)) {
        throw new AppError('validation_failed', 'config.name: use 1–100 lowercase letters, digits, "_" or "-"');
      }
      checkDescription(config.description);
      const created = await mcpConfigs.create({
        name: config.name,
        description: config.description,
        mappings: mappingInputs(config.connectionToolMappings),
      });
      return { config: configMessage(toApi(created)) };
    },

    async updateMcpConfig(req) {
      checkDescription(req.description);
      // proto3 cannot tell an empty list from none: an update with no mappings keeps them, as REST does without the field.
      const updated = await mcpConfigs.update(req.configId, {
        description: given(req.description),
        mappings: req.connectionToolMappings.length ? mappingInputs(req.connectionToolMappings) : undefined,
      });
      return { config: configMessage(toApi(updated)) };
    },

    async listMcpConfigs(req) {
      const page = pageOf(req.pageSize, req.pageToken, 30, 30);
      if (req.search.length > 100) throw new AppError('validation_failed', 'search: at most 100 characters');
      // As REST: a config is found by its server URL's last path segment.
      const byUrl = given(req.filter?.mcpServerUrl)?.replace(/\/+$/, '').split('/').pop();
      const { rows, total } = await mcpConfigs.list({
        id: given(req.filter?.id) ?? byUrl,
        name: given(req.filter?.name),
        provider: given(req.filter?.provider),
        search: given(req.search),
        limit: page.limit,
        offset: page.offset,
      });
      return { configs: rows.map((row) => configMessage(toApi(row))), ...page.tokens(total) };
    },

    async getMcpConfig(req) {
      return { config: configMessage(toApi(await mcpConfigs.get(req.configId))) };
    },

    async deleteMcpConfig(req) {
      await mcpConfigs.delete(req.configId);
      return {};
    },

    async ensureMcpInstance(req, context) {
      checkText('config_name', req.configName, 100);
      checkText('user_identifier', req.userIdentifier, 255);
      if (req.name.length > 100) throw new AppError('validation_failed', 'name: at most 100 characters');
      const { row, config } = await instances.ensure({
        configName: req.configName,
        userIdentifier: req.userIdentifier,
        name: given(req.name),
      });
      return { instance: instanceMessage(instances.toApi(row, config, withUrl(context))) };
    },

    async listMcpInstances(req, context) {
      const page = pageOf(req.pageSize, req.pageToken, 30, 30);
      if (req.search.length > 255) throw new AppError('validation_failed', 'search: at most 255 characters');
      const { rows, total } = await instances.list({
        id: given(req.filter?.id),
        name: given(req.filter?.name),
        configName: given(req.filter?.configName),
        userIdentifier: given(req.filter?.userIdentifier),
        search: given(req.search),
        limit: page.limit,
        offset: page.offset,
      });
      return {
        instances: rows.map(({ row, config }) => instanceMessage(instances.toApi(row, config, withUrl(context)))),
        ...page.tokens(total),
      };
    },

    async getMcpInstance(req, context) {
      const { row, config } = await instances.get(req.instanceId);
      return { instance: instanceMessage(instances.toApi(row, config, withUrl(context))) };
    },

    async updateMcpInstance(req, context) {
      if (req.name.length > 100) throw new AppError('validation_failed', 'name: at most 100 characters');
      if (req.configName.length > 100) throw new AppError('validation_failed', 'config_name: at most 100 characters');
      const { row, config } = await instances.update(req.instanceId, {
        name: given(req.name),
        configName: given(req.configName),
      });
      return { instance: instanceMessage(instances.toApi(row, config, withUrl(context))) };
    },

    async deleteMcpInstance(req) {
      await instances.delete(req.instanceId);
      return {};
    },

    async getMcpInstanceAuthState(req) {
      const { row, config } = await instances.get(req.instanceId);
      const connections = await authState(services, config.mappings, row.user_identifier, {
        create: true,
        links: req.includeAuthLinks,
      });
      return { connections: connections.map(authStateMessage) };
    },

    async createMcpSessionToken(req) {
      if (!req.mcpConfigId) {
        // The reference's other binding, /mcp/connections/{key_id}/tokens, has no config to mint for here.
        throw unimplemented('CreateMcpSessionToken by key_id is not served; give mcp_config_id');
      }
      checkText('identifier', req.identifier, 255);
      const seconds = parseExpiry(req.expiry ? `${req.expiry.seconds}s` : undefined);
      const detail = await mcpConfigs.get(req.mcpConfigId);
      const minted = await services.sessionTokens.mint(detail, req.identifier, seconds);
      return { token: minted.token, expiresAt: timestamp(minted.expires_at) };
    },

    async listMcpConnectedAccounts(req) {
      checkText('identifier', req.identifier, 255);
      const detail = await mcpConfigs.get(req.configId);
      const include = req.includeAuthLink;
      const states = await authState(services, detail.mappings, req.identifier, { create: include, links: include });
      return {
        connectedAccounts: states.map((state) => ({
          ...authStateMessage(state),
          connectedAccountId: given(state.connected_account_id),
          connectedAccountStatus: given(state.connected_account_status),
        })),
      };
    },
  };
}
