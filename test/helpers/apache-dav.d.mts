export declare const APACHE: string;
export declare const hasApache: boolean;
export declare function startApacheDav(): Promise<{ url: string; dir: string; close(): Promise<void> }>;
