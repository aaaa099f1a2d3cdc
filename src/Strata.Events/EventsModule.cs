using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>DI registration of the process's event bus (<see cref="InProcessEventBus"/>).</summary>
public static class EventsModule
{
    public static IServiceCollection AddEventsModule(this IServiceCollection services, string source)
    {
        services.AddSingleton(sp => new CloudEventCodec(sp.GetRequiredService<TimeProvider>(), source));
        services.AddSingleton<InProcessEventBus>();
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<InProcessEventBus>());
        services.AddSingleton<IEventSubscriber>(sp => sp.GetRequiredService<InProcessEventBus>());
        return services;
    }
}
