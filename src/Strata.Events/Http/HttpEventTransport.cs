using System.Net.Http.Json;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Http;
using Strata.Events.Transport;
using Strata.Contracts.Events;

namespace Strata.Events.Http;

/// <summary>The embedded broker reached over HTTP: what a process uses when another process (the one hosting the
/// Events module) owns the log. Fetches are long polls; leases, order per key and redelivery are the log's.</summary>
public sealed class HttpEventTransport(HttpClient http) : IEventTransport
{
    public string Name => "http";

    public async ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        var wire = messages.Select(m => new WireMessage(m.Id, m.Key, m.TargetGroup, JsonDocument.Parse(m.Body).RootElement)).ToList();
        await ModuleHttp.SendAsync<PublishMessagesResponse>(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Messages, topic))
        {
            Content = JsonContent.Create(new PublishMessagesRequest(wire), options: StrataJson.Options),
        }, cancellationToken);
    }

    public async ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default)
    {
        var consumer = new HttpEventConsumer(http, topic, group, settings);
        await consumer.JoinAsync(cancellationToken);
        return consumer;
    }

    public async ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<ConsumerGroupState>>(http, ModuleNames.Events,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Groups, topic)), cancellationToken) ?? [];

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class HttpEventConsumer(HttpClient http, string topic, string group, ConsumerSettings settings) : IEventConsumer
    {
        private readonly string _join = RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Join, topic, group);
        private readonly string _fetch = RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Fetch, topic, group);
        private readonly string _ack = RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Ack, topic, group);
        private readonly string _release = RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Release, topic, group);

        /// <summary>Creates the group (at the end of the topic) and this member before anything is published to it.</summary>
        public async Task JoinAsync(CancellationToken cancellationToken)
        {
            var request = new FetchRequest(settings.ConsumerName, 1, 0, (int)settings.AckWait.TotalMilliseconds, settings.MaxAckPending, settings.FromStart);
            using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Post, _join)
            {
                Content = JsonContent.Create(request, options: StrataJson.Options),
            }, cancellationToken);
            await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Events, cancellationToken);
        }

        public async ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default)
        {
            var request = new FetchRequest(settings.ConsumerName, max, (int)wait.TotalMilliseconds, (int)settings.AckWait.TotalMilliseconds, settings.MaxAckPending, settings.FromStart);
            var response = await ModuleHttp.SendAsync<FetchResponse>(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Post, _fetch)
            {
                Content = JsonContent.Create(request, options: StrataJson.Options),
            }, cancellationToken);
            return response!.Deliveries.Select(d => new Delivery(topic, d.Id, d.Key, JsonSerializer.SerializeToUtf8Bytes(d.Event), d.TargetGroup, d.DeliveryCount, d.Sequence)).ToList();
        }

        public async ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default)
        {
            var request = new AckRequest(settings.ConsumerName, deliveries.Select(d => d.Sequence).ToList());
            using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Post, _ack)
            {
                Content = JsonContent.Create(request, options: StrataJson.Options),
            }, cancellationToken);
            await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Events, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            // Bounded: a process stopping must not wait on an events process that is gone (its port may still accept and
            // never answer); the log gives the leases back at the ack wait anyway.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Post, _release)
                {
                    Content = JsonContent.Create(new ReleaseRequest(settings.ConsumerName), options: StrataJson.Options),
                }, timeout.Token);
            }
            catch (Exception e) when (e is Strata.Contracts.Errors.DependencyUnavailableException or OperationCanceledException)
            {
            }
        }
    }
}
