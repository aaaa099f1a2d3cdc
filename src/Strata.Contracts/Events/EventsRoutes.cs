namespace Strata.Contracts.Events;

/// <summary>The Events module's routes: <c>EventsApi</c> maps these templates under <see cref="Prefix"/>;
/// <see cref="HttpEventsClient"/> and the bus's HTTP transport fill them (<see cref="Http.RoutePath"/>).</summary>
public static class EventsRoutes
{
    public const string Prefix = "/api/events";
    public const string Query = "/";
    public const string DeadLetters = "/dead-letters";
    public const string Redrive = "/dead-letters/{id}/redrive";
    public const string Replay = "/replay";
    public const string Consumers = "/consumers";
    /// <summary>CloudEvents from outside, in binary, structured or batch mode.</summary>
    public const string Ingress = "/{topic}";

    // The embedded broker, for the other processes of the microservices topology.
    public const string Messages = "/topics/{topic}/messages";
    public const string Groups = "/topics/{topic}/groups";
    public const string Join = "/topics/{topic}/groups/{group}/join";
    public const string Fetch = "/topics/{topic}/groups/{group}/fetch";
    public const string Ack = "/topics/{topic}/groups/{group}/ack";
    public const string Release = "/topics/{topic}/groups/{group}/release";
}
