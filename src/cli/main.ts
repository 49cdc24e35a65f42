// `hitless <command>`: commands, options, help and version through commander; each command's module
// is loaded only when it runs, so `hitless --help` does not pay for Fastify or the Kubernetes client.
// The one place that turns errors into exit codes (2 usage, 1 everything else).
import { Command, CommanderError, Option } from 'commander'
import packageJson from '../../package.json' with { type: 'json' }
import { ConfigError } from '../config/load.ts'
import { UsageError } from './options.ts'

const env = (name: string, text: string) => `${text} (${name})`

function program(): { root: Command; exitCode: () => number } {
  let code = 0
  const root = new Command('hitless')
    .description('stops the rollout misconfigurations behind 502/503/504s: an admission webhook, and the same rules as an audit CLI')
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(run hitless <command> --help for its options)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) })
  const done = (result: number | void) => void (code = result ?? 0)

  root
    .command('serve')
    .description('run the admission webhook over HTTPS: /mutate, /validate, /healthz, /readyz, /metrics')
    .option('--host <addr>', env('HITLESS_HOST', 'listen address, default 0.0.0.0'))
    .option('--port <n>', env('HITLESS_PORT', 'HTTPS port, default 8443'))
    .option('--probe-port <n>', env('HITLESS_PROBE_PORT', 'plain-HTTP port answering only /healthz and /readyz (for the kubelet), default 8081; 0 picks a free one'))
    .option('--tls-cert <file>', env('HITLESS_TLS_CERT', 'serving certificate, PEM; watched and reloaded'))
    .option('--tls-key <file>', env('HITLESS_TLS_KEY', 'its private key; without both, a development certificate under .hitless/'))
    .option('--config <file>', env('HITLESS_CONFIG', 'rule config, default the shipped rules/default.yaml'))
    .addOption(new Option('--cluster <mode>', env('HITLESS_CLUSTER', 'watch the cluster: auto (when a kubeconfig or service account is there), on, off')))
    .option('--kubeconfig <file>', env('KUBECONFIG', 'kubeconfig, default ~/.kube/config or in-cluster'))
    .option('--log-level <level>', env('HITLESS_LOG_LEVEL', 'trace|debug|info|warn|error, default info'))
    .option('--shutdown-delay <s>', env('HITLESS_SHUTDOWN_DELAY', 'seconds to keep serving after SIGTERM with /readyz failing, default 2'))
    .option('--tls-secret <name>', env('HITLESS_TLS_SECRET', 'the TLS Secret the certificate is mounted from (in POD_NAMESPACE), named in messages'))
    .option('--service <name>', env('HITLESS_SERVICE', 'the Service in front of hitless (in POD_NAMESPACE): the certificate must be valid for <name>.<namespace>.svc'))
    .option('--webhook-configuration <name>', env('HITLESS_WEBHOOK_CONFIGURATION', 'hitless\'s Mutating/ValidatingWebhookConfigurations, read to check names and caBundle; default hitless, "none" to skip'))
    .option('--approval-key <file>', env('HITLESS_APPROVAL_KEY', 'key that signs exemption approval records, 32 bytes or more, the same for every replica'))
    .action(async (options) => done(await (await import('./serve.ts')).serve(options)))

  root
    .command('review')
    .description('answer one AdmissionReview (JSON) from a file or stdin as /validate would (/mutate with --mutate)')
    .argument('[file]', 'the AdmissionReview; - or nothing for stdin')
    .option('--mutate', 'answer as /mutate')
    .option('--config <file>', env('HITLESS_CONFIG', 'rule config'))
    .option('--approval-key <file>', env('HITLESS_APPROVAL_KEY', "the webhook's approval key, to check exemption approval records as it does"))
    .addHelpText('after', '\nExit codes: 0 allowed, 1 denied, 2 malformed input or a review hitless cannot judge.')
    .action(async (file, options) => done(await (await import('./review.ts')).review(file, options)))

  root
    .command('audit')
    .description('the webhook’s rules over manifests or a live cluster, as a report')
    .argument('[paths...]', 'files or directories (*.yaml, *.yml, *.json, recursive); - or nothing for stdin')
    .option('--cluster', 'audit the live cluster (--kubeconfig, KUBECONFIG, ~/.kube/config)')
    .option('--kubeconfig <file>', 'kubeconfig for --cluster')
    .option('-n, --namespace <ns>', 'files: namespace for objects without one (default "default"); cluster: only this one')
    .option('-A, --all-namespaces', 'cluster: every namespace (the default)')
    .option('--config <file>', env('HITLESS_CONFIG', 'rule config'))
    .option('-o, --format <format>', 'table (default), json, sarif, junit, policyreport, openreports')
    .option('--fail-on <level>', 'deny (default), warn, never')
    .addHelpText('after', '\nExit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage error or unreadable input.')
    .action(async (paths, options) => done(await (await import('./audit.ts')).audit(paths, options)))

  root
    .command('fix')
    .description('apply what the webhook would patch to YAML files: a unified diff, or the files changed with --write')
    .argument('<paths...>', 'files or directories')
    .option('--write', 'change the files in place')
    .option('--config <file>', env('HITLESS_CONFIG', 'rule config'))
    .option('-n, --namespace <ns>', 'namespace for objects without one (default "default")')
    .addHelpText('after', '\nExit codes: 0 done, 2 usage error or unreadable input.')
    .action(async (paths, options) => done(await (await import('./fix.ts')).fix(paths, options)))

  root
    .command('export-policies')
    .description('the rules that need no cluster state as ValidatingAdmissionPolicies (and MutatingAdmissionPolicies) for the API server, YAML on stdout')
    .option('--config <file>', env('HITLESS_CONFIG', 'rule config: actions, mode, exemptions'))
    .option('--mutating', 'also MutatingAdmissionPolicies for the rules whose action is mutate (Kubernetes 1.34 or later)')
    .option('--kubernetes-version <version>', 'the API server the policies are for: 1.30 or later; 1.36 or later gets MutatingAdmissionPolicy v1 (default 1.36)')
    .addHelpText('after', '\nExit codes: 0 written, 1 invalid config, 2 usage error.\nSee docs/cel-policies.md for what the policies cannot check that the webhook does.')
    .action(async (options) => done(await (await import('./export-policies.ts')).exportPoliciesCommand(options)))

  for (const command of root.commands) command.exitOverride().showHelpAfterError(`(run hitless ${command.name()} --help for its options)`)
  return { root, exitCode: () => code }
}

export async function main(argv: string[]): Promise<number> {
  const { root, exitCode } = program()
  if (argv.length === 0) {
    root.outputHelp({ error: true })
    return 2
  }
  try {
    await root.parseAsync(argv, { from: 'user' })
    return exitCode()
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; anything commander refused is a usage error.
      return error.exitCode === 0 ? 0 : 2
    }
    const command = argv[0]
    process.stderr.write(`hitless ${command}: ${(error as Error).message}\n`)
    if (error instanceof ConfigError) return 1
    return error instanceof UsageError ? 2 : 1
  }
}
