using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Events;
using Strata.Events.Audit;
using Strata.Events.Embedded;
using Strata.Events.Http;
using Strata.Events.Inbox;
using Strata.Events.Nats;
using Strata.Events.Outbox;
using Strata.Events.Redis;
using Strata.Events.Transport;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Events;

/// <summary>DI registration of the bus. Every process gets an <see cref="EventBus"/> over the configured broker:
/// NATS JetStream or Redis Streams when <c>Strata:Events:Backend</c> names one; otherwise the embedded log, opened
/// here when this process hosts the Events module, else reached over HTTP at <c>Strata:Services:events</c>
/// (<paramref name="embeddedLogUrl"/>). The process hosting the module also keeps the audit log and serves the API.</summary>
public static class EventsModule
{
    public const string EmbeddedLogClient = "strata-events-broker";

    /// <summary>The Events module: the embedded broker, the audit log, dead letters, replay and consumer lag. Every
    /// process that calls it gets the bus: over the configured broker, or over HTTP to this module's embedded log.</summary>
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Events,
        Authorization = EventsAuthorization.Table,
        UrlPrefixes = [EventsRoutes.Prefix],
        AddServices = c => c.Services.AddEventsModule($"/strata/{c.ProcessName}", hostsModule: true),
        MapEndpoints = app => app.MapEventsApi(),
        // No URL is needed when the bus is a broker every process reaches (NATS, Redis).
        AddHttpClient = (c, url) =>
        {
            c.Services.AddEventsModule($"/strata/{c.ProcessName}", hostsModule: false, embeddedLogUrl: url);
            if (url is not null)
            {
                // The operator API (audit, dead letters, lag), for the dashboard: reads are retried, a redrive is not.
                c.Services.AddModuleHttpClient<IEventsAdminClient, HttpEventsClient>(ModuleNames.Events, url, retryUnsafeMethods: false);
            }
        },
    };

    public static IServiceCollection AddEventsModule(this IServiceCollection services, string source, bool hostsModule = true, Uri? embeddedLogUrl = null)
    {
        services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Backend != "nats" || !string.IsNullOrWhiteSpace(o.Nats), "Strata:Events:Nats is required when the backend is nats")
            .Validate(o => o.Backend != "redis" || !string.IsNullOrWhiteSpace(o.Redis), "Strata:Events:Redis is required when the backend is redis")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EventsOptions>, IngressTopicsValidation>());
        services.AddSingleton(sp => new CloudEventCodec(sp.GetRequiredService<TimeProvider>(), source));
        if (embeddedLogUrl is not null)
        {
            services.AddHttpClient(EmbeddedLogClient, c =>
            {
                c.BaseAddress = embeddedLogUrl;
                c.Timeout = TimeSpan.FromSeconds(40);
            }).AddServiceCredential(ModuleNames.Events);
        }
        services.AddSingleton<IEventTransport>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<EventsOptions>>().Value;
            return options.Backend switch
            {
                "nats" => new NatsJetStreamTransport(options.Nats!, options.Prefix, options.Retention, options.DedupWindow, options.Partitioning,
                    sp.GetRequiredService<TimeProvider>()),
                "redis" => new RedisStreamsTransport(options.Redis!, options.Prefix, options.Retention, options.DedupWindow, options.Partitioning,
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<RedisConnections>().Get(options.Redis!)),
                _ when hostsModule => sp.GetRequiredService<EmbeddedEventLog>(),
                _ when embeddedLogUrl is not null => new HttpEventTransport(sp.GetRequiredService<IHttpClientFactory>().CreateClient(EmbeddedLogClient)),
                _ => throw new InvalidOperationException("the embedded event log is hosted by the events module: set Strata:Services:events"),
            };
        });
        services.AddSingleton(sp =>
        {
            var strata = sp.GetRequiredService<IOptions<StrataOptions>>().Value;
            return new SqliteInbox(Path.Combine(strata.ModuleDirectory("events"), "inbox.db"), sp.GetRequiredService<TimeProvider>(), TimeSpan.FromDays(8));
        });
        services.AddSingleton<IInbox>(sp => sp.GetRequiredService<SqliteInbox>());
        services.AddSingleton(sp => new EventBus(sp.GetRequiredService<IEventTransport>(), sp.GetRequiredService<CloudEventCodec>(),
            sp.GetRequiredService<IInbox>(), sp.GetRequiredService<ILogger<EventBus>>()));
        services.AddSingleton<IEventEncoder>(sp => sp.GetRequiredService<CloudEventCodec>());
        services.AddSingleton<OutboxRelay>();
        services.AddSingleton<IOutboxSignal>(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<EventBus>());
        services.AddSingleton<IEventSubscriber>(sp => sp.GetRequiredService<EventBus>());
        if (hostsModule)
        {
            services.AddSingleton(sp =>
            {
                var options = sp.GetRequiredService<IOptions<EventsOptions>>().Value;
                var strata = sp.GetRequiredService<IOptions<StrataOptions>>().Value;
                return new EmbeddedEventLog(Path.Combine(strata.ModuleDirectory("events"), "log"), options.Embedded, sp.GetRequiredService<TimeProvider>());
            });
            services.AddSingleton(sp => new BrokerSessions(sp.GetRequiredService<EmbeddedEventLog>(), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton(sp => new AuditStore(Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory("events"), "audit.db"),
                sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<AuditRecorder>();
            services.AddHostedService(sp => sp.GetRequiredService<AuditRecorder>());
            services.AddSingleton<EventsAdmin>();
            services.AddSingleton<IEventsAdminClient, EventsAdminClient>();
            services.AddSingleton<Ingress.CloudEventIngress>();
            services.AddHostedService<ConsumerLagMonitor>();
        }
        return services;
    }
}

/// <summary>Refuses at start an ingress topic that cannot take events from outside, saying which and why.</summary>
internal sealed class IngressTopicsValidation : IValidateOptions<EventsOptions>
{
    public ValidateOptionsResult Validate(string? name, EventsOptions options) =>
        options.Ingress.Problem() is { } problem ? ValidateOptionsResult.Fail("Strata:Events:Ingress:Topics: " + problem) : ValidateOptionsResult.Success;
}
