export * from './auditRound.ts'
export * from './errors.ts'
export * from './roundRecord.ts'
