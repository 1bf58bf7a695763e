export * from './auth.ts';
export * from './board.ts';
export * from './config.ts';
export * from './dashboard.ts';
export * from './job-view.ts';
