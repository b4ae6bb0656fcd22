import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ctxOf } from '../../context.js';
import { Nullable, PageOf, Timestamp } from '../../schemas.js';
import { TEMPLATE_EVENTS, TEMPLATE_LOCALES, type TemplateEvent, type TemplateLocale } from './templates.js';
import * as templates from './templates.service.js';

const Event = Type.Unsafe<TemplateEvent>({ type: 'string', enum: [...TEMPLATE_EVENTS] });
const Locale = Type.Unsafe<TemplateLocale>({ type: 'string', enum: [...TEMPLATE_LOCALES] });
const Template = Type.Object({
  event: Event, locale: Locale, body: Type.String(), is_default: Type.Boolean(), default_body: Type.String(), updated_at: Nullable(Timestamp),
});
const Params = Type.Object({ event: Event });
const Query = Type.Object({ locale: Type.Optional(Locale) });

export const templateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/social/templates', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'Every notification template, per locale (override or default)', response: { 200: PageOf(Template) } },
  }, async (req) => templates.listTemplates(ctxOf(req)));

  app.get('/social/templates/:event', {
    config: { auth: 'social.read' },
    schema: { tags: ['social'], summary: 'One template', params: Params, querystring: Query, response: { 200: Template } },
  }, async (req) => templates.getTemplate(ctxOf(req), req.params.event as TemplateEvent, (req.query.locale ?? 'en') as TemplateLocale));

  app.put('/social/templates/:event', {
    config: { auth: 'business.manage' },
    schema: { tags: ['social'], summary: 'Override a template', params: Params, querystring: Query,
      body: Type.Object({ body: Type.String({ minLength: 1, maxLength: 4096 }) }), response: { 200: Template } },
  }, async (req) => templates.putTemplate(ctxOf(req), req.params.event as TemplateEvent, (req.query.locale ?? 'en') as TemplateLocale, req.body.body));

  app.delete('/social/templates/:event', {
    config: { auth: 'business.manage' },
    schema: { tags: ['social'], summary: 'Return a template to the default', params: Params, querystring: Query, response: { 200: Template } },
  }, async (req) => templates.resetTemplate(ctxOf(req), req.params.event as TemplateEvent, (req.query.locale ?? 'en') as TemplateLocale));
};
