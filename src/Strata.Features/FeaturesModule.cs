using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Registry;
using Strata.Features.Definitions;
using Strata.Features.Offline;
using Strata.Features.Online;
using Strata.Features.Store;
using Strata.Features.Views;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;

namespace Strata.Features;

/// <summary>DI registration of the Features module (hosted in this process): its definitions, stores and services.</summary>
public static class FeaturesModule
{
    /// <summary>The Features module: the feature store's definitions, offline and online stores and their API.</summary>
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Features,
        Authorization = FeaturesAuthorization.Table,
        // The registry answers which model versions read a view that an apply would change.
        Calls = [ModuleNames.Events, ModuleNames.Data, ModuleNames.Registry],
        UrlPrefixes = [FeaturesRoutes.Prefix],
        AddServices = c => c.Services.AddFeaturesModule(),
        MapEndpoints = app => app.MapFeaturesApi(),
        // Reads and pushes keyed by entity and event time: a resent request changes nothing more.
        AddHttpClient = (c, url) => c.Services.AddModuleHttpClient<IFeaturesClient, HttpFeaturesClient>(ModuleNames.Features, url, retryUnsafeMethods: true),
    };

    public static IServiceCollection AddFeaturesModule(this IServiceCollection services)
    {
        services.AddOptions<FeatureStoreOptions>().BindConfiguration(FeatureStoreOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.OnlineStore != "redis" || !string.IsNullOrWhiteSpace(o.Redis), "Strata:Features:Redis is required when the online store is redis")
            .ValidateOnStart();
        // The definitions are data: applied versions under the module's folder; a fresh folder starts with the host's
        // InitialFeatureDefinitions (the shipped examples, registered beside the module).
        services.AddSingleton(sp => new FeatureDefinitions(Path.Combine(ModuleDirectory(sp), "definitions"),
            sp.GetServices<InitialFeatureDefinitions>(), sp.GetRequiredService<IEventPublisher>(), sp.GetService<IRegistryClient>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<FeatureDefinitions>>()));
        services.AddSingleton<IFeatureRepositorySource>(sp => sp.GetRequiredService<FeatureDefinitions>());
        services.AddHostedService<DefinitionsWatcher>();
        services.AddSingleton(sp =>
        {
            var store = new OfflineStore(Path.Combine(ModuleDirectory(sp), "offline"), sp.GetRequiredService<IFeatureRepositorySource>(), sp.GetRequiredService<TimeProvider>());
            store.CleanStaging();
            return store;
        });
        services.AddSingleton<IOnlineStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<FeatureStoreOptions>>().Value;
            var repository = sp.GetRequiredService<IFeatureRepositorySource>();
            return options.OnlineStore == "redis"
                ? new RedisOnlineStore(sp.GetRequiredService<RedisConnections>().Get(options.Redis!), options.RedisKeyPrefix, repository)
                : new EmbeddedOnlineStore(Path.Combine(ModuleDirectory(sp), "online.db"), repository);
        });
        services.AddSingleton<OnlineFeatureServer>();
        services.AddSingleton<PushService>();
        services.AddSingleton<StreamIngestion>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamIngestion>());
        services.AddSingleton<DatasetIngestion>();
        services.AddHostedService(sp => sp.GetRequiredService<DatasetIngestion>());
        services.AddSingleton(sp => new HistoricalRetrieval(sp.GetRequiredService<IFeatureRepositorySource>(), sp.GetRequiredService<OfflineStore>(),
            sp.GetRequiredService<IDataClient>())
        { MaxInlineRows = sp.GetRequiredService<IOptions<FeatureStoreOptions>>().Value.MaxInlineRows });
        services.AddSingleton(sp => new Materializer(sp.GetRequiredService<IFeatureRepositorySource>(), sp.GetRequiredService<OfflineStore>(),
            sp.GetRequiredService<IOnlineStore>(), sp.GetRequiredService<IEventPublisher>(), Path.Combine(ModuleDirectory(sp), "materialized.json")));
        services.AddSingleton<FeaturesService>();
        services.AddSingleton<IFeaturesClient>(sp => sp.GetRequiredService<FeaturesService>());
        return services;
    }

    private static string ModuleDirectory(IServiceProvider sp) =>
        sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Features);
}
