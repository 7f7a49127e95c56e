import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { printRecord } from '../../io.js';
import type { StoredTemplate } from '../../store/templates.js';
import { loadTemplate, resolveName } from './source.js';
import { templateJson, templateRecord } from './print.js';

export interface CreateOptions {
  /** From the argument, or the file's `name` key. */
  name?: string;
  /** YAML or JSON file; `-` reads stdin. Without it, a terminal is asked. */
  file?: string;
  /** Overrides the file's category. */
  category?: string;
  json?: boolean;
}

export const FILE_HELP = `
A template file (YAML or JSON) has a category and a part per channel; Liquid renders each field with
user.id, user.name, user.email, user.phone, user.locale, user.timezone, user.attributes.* and data.*.

  name: order-shipped            # optional when NAME is given
  category: transactional        # a key of config "categories"
  push:  { title: "Shipped", body: "Order {{ data.order }} is on its way", data: { order: "{{ data.order }}" } }
  sms:   { body: "Order {{ data.order }} shipped: {{ data.url }}" }
  email:
    subject: "Your order {{ data.order }} has shipped"
    html: "<p>Hi {{ user.name }}, <a href=\\"{{ data.url }}\\">track it</a></p>"   # text is derived when absent
  locales:
    ko: { push: { title: "배송 시작" }, sms: { body: "주문 {{ data.order }} 배송이 시작되었습니다" } }
  tracking: { opens: true, clicks: true }

Push also takes url, sound, badge and collapseKey. Email HTML escapes {{ }} output ({{ x | raw }} does not).
A locale variant replaces only the fields it gives; ko-KR users get "ko-kr", then "ko", then the default.`;

export function register(parent: Command, ctx: Ctx): void {
  parent.command('create [name]')
    .description('create a template from a YAML or JSON file (or by answering questions on a terminal)')
    .option('-f, --file <file>', 'YAML or JSON definition; - reads stdin')
    .option('--category <name>', 'category (overrides the file)')
    .option('--json', 'print the template as JSON')
    .addHelpText('after', `${FILE_HELP}

Examples:
  $ notify templates create order-shipped --file order-shipped.yaml
  $ notify templates create promo --file promo.json --category marketing
  $ cat welcome.yaml | notify templates create welcome --file -`)
    .action(ctx.action(async (deps, name: string | undefined, opts: Omit<CreateOptions, 'name'>) => {
      const t = await run({ name, ...opts }, deps);
      printRecord(deps.io, templateRecord(t), { json: opts.json, jsonValue: templateJson(t) });
    }));
}

export async function run(options: CreateOptions, deps: Deps): Promise<StoredTemplate> {
  const { checkTemplateName } = await import('../../core/template.js');
  let argName = options.name;
  if (argName === undefined && options.file === undefined && deps.io.inIsTTY && deps.io.isTTY) {
    argName = (await deps.prompter.input('Template name')).trim();
  }
  if (argName !== undefined) checkTemplateName(argName);
  const loaded = await loadTemplate(options, deps);
  const name = checkTemplateName(resolveName(argName, loaded.fileName));
  const store = await deps.store();
  return store.templates.create(name, loaded.def);
}
